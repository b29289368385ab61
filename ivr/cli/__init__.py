"""The flask commands."""
