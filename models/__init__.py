"""Domain of the hub: enums, pure rules and (in `models.tables`) the SQLModel tables.

Nothing here does I/O, and nothing outside `models.tables` imports SQLModel, so a desk
can use the rules without loading the database layer.
"""
