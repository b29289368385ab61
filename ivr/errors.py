"""The hotline's small exception family; each boundary translates these for its audience."""


class HotlineError(Exception):
    """Base class for every error the hotline raises on purpose."""


class FlowError(HotlineError):
    """A flow file is invalid; the message names the file, the node and the fix."""


class InvalidInput(HotlineError):
    """Input from a caller, an API client or the CLI was rejected; the message says why."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class NotFound(HotlineError):
    """A merchant, outreach, call or number that was asked for does not exist."""


class Conflict(HotlineError):
    """The request clashes with what is stored (for example cancelling completed outreach)."""


class TwilioUnavailable(HotlineError):
    """Twilio's REST API cannot be used: no credentials, unreachable, or it refused the request (its HTTP status)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status
