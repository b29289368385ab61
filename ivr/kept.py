"""Small bounded memos for work a webhook would otherwise repeat on every request."""


class Kept(dict):
    """Values worked out once per key and kept; emptied when full, so odd requests cannot grow it without end."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def keep(self, key, value):
        """Keep `value` for `key` and return it."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
