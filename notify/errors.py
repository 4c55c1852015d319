"""What a channel raises when a send fails: the sender retries a TemporaryError with back-off and
gives up on a PermanentError at once (a 5xx from SMTP, a 4xx from the SMS gateway)."""

from __future__ import annotations


class SendError(Exception):
    """A failed send; the text goes to notifications.last_error, never with the address in it."""


class TemporaryError(SendError):
    pass


class PermanentError(SendError):
    pass
