"""The call log as the API and retention read it."""
