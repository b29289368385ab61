"""Twilio's REST API through the official `twilio` client, sent to the base URL the operator chose."""
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.errors import TwilioUnavailable

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class RestSettings:
    """The account and credentials the client signs in with, and the API's base URL."""

    account_sid: str | None
    auth_token: str | None
    api_key: str | None = None
    api_secret: str | None = None
    api_url: str = TWILIO_API

    @classmethod
    def from_config(cls, config):
        """The settings as ivr/config.py read them (TWILIO_* and IVR_TWILIO_API_URL)."""
        return cls(config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN"), config.get("TWILIO_API_KEY"),
                   config.get("TWILIO_API_SECRET"), config.get("TWILIO_API_URL") or TWILIO_API)

    def missing(self):
        """Say which setting is missing for the REST API, or return None when it can be used."""
        if not self.account_sid:
            return "TWILIO_ACCOUNT_SID is not set"
        if self.api_key or self.api_secret:
            return None if self.api_key and self.api_secret else "TWILIO_API_KEY and TWILIO_API_SECRET go together"
        return None if self.auth_token else "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) is not set"


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending what it would send to api.twilio.com to another base URL instead."""

    def __init__(self, base_url, timeout=TIMEOUT_SECONDS):
        super().__init__(timeout=timeout, request_hooks={"response": self._keep_content})
        self.base_url = base_url.rstrip("/")
        self.content = None

    def _keep_content(self, response, *args, **kwargs):
        # The client's own responses keep only text; a recording's audio is bytes, kept here from the last response.
        self.content = response.content

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        """Send one request, to the configured base URL when it was meant for api.twilio.com."""
        if url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth, timeout=timeout,
                               allow_redirects=allow_redirects)


def client(settings, timeout=TIMEOUT_SECONDS):
    """Return a twilio Client for `settings`; raise TwilioUnavailable when a credential is missing."""
    problem = settings.missing()
    if problem:
        raise TwilioUnavailable(f"Twilio's REST API cannot be used: {problem}.")
    http_client = BaseUrlHttpClient(settings.api_url, timeout)
    if settings.api_key:
        return Client(settings.api_key, settings.api_secret, settings.account_sid, http_client=http_client)
    return Client(settings.account_sid, settings.auth_token, http_client=http_client)


def calling(action, work):
    """Run `work()`, a use of the client, turning Twilio's and the network's failures into TwilioUnavailable."""
    try:
        return work()
    except TwilioRestException as error:
        raise TwilioUnavailable(f"Twilio refused to {action}: HTTP {error.status}, {error.msg}",
                                status=error.status) from None
    except requests.RequestException as error:
        raise TwilioUnavailable(f"could not reach Twilio's REST API to {action}: {type(error).__name__}") from None


def waiting_features(config):
    """Say what waits for Twilio's REST API credentials, or return None when they are set."""
    problem = RestSettings.from_config(config).missing()
    if problem is None:
        return None
    waiting = ["recordings are not copied from Twilio or deleted there"]
    if config.get("SMS_FROM"):
        waiting.append("SMS notes are not sent")
    return f"{problem}: " + "; ".join(waiting)
