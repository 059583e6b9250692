"""Why the service layer refuses a request: one exception per kind of refusal.

The web layer maps each to its HTTP status (web/errors.py); the message is what the client reads.
"""

from __future__ import annotations


class Refused(Exception):
    """A request the rules do not allow; `message` explains why, to the client."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(Refused):
    """The request itself is wrong (a value, a reference, a combination)."""


class TooLarge(Refused):
    """Content or a file beyond the configured maximum."""


class Unauthenticated(Refused):
    """Credentials that do not identify anyone."""


class Forbidden(Refused):
    """Someone who may not do this."""


class NotFound(Refused):
    """Nothing by that id (or nothing the caller may know of)."""


class Conflict(Refused):
    """Not in this state, or an id already bound to something else."""


class UnsupportedMediaType(Refused):
    """A body in a media type the endpoint does not take (e.g. a webhook's, not JSON)."""


class TooMany(Refused):
    """More at once than one user may have (e.g. WebSocket connections)."""


class Unavailable(Refused):
    """A dependency did not answer: nothing was done, retrying is safe."""
