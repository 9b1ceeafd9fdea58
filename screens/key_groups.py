"""Titles of the groups the help screen lists keys under, for widgets to name theirs by
(`BINDING_GROUP_TITLE`) without loading the help screen, which loads when first opened."""

MOVING = "Moving around"
