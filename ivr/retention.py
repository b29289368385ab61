"""Placeholder wired by create_app; filled in by its issue."""


def init_app(app):
    """Nothing to wire yet."""
