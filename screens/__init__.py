"""The desk: a Textual app over a replica of the hub's live state.

Imports Textual, Rich, `messaging` and the pure parts of `models` only: never the database
layer, the scheduler or the hub.
"""
