"""Errors that services raise and that the web layer and CLI turn into readable answers.

Each carries a stable machine code, a sentence for a person and, where it applies, the field
that was wrong; the HTTP status follows from the class.
"""

from __future__ import annotations

from collections.abc import Mapping


class GovLinkError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers: Mapping[str, str] = dict(headers or {})  # HTTP headers the answer carries (Retry-After …)
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(GovLinkError):
    status = 422
    code = "invalid"


class NotFound(GovLinkError):
    status = 404
    code = "not_found"


class TooLarge(GovLinkError):
    status = 413
    code = "too_large"


class Conflict(GovLinkError):
    status = 409
    code = "conflict"


class NotSignedIn(GovLinkError):
    status = 401
    code = "not_signed_in"


class BadCredentials(GovLinkError):
    status = 401
    code = "bad_credentials"


class Forbidden(GovLinkError):
    status = 403
    code = "forbidden"


class AccountLocked(GovLinkError):
    status = 423
    code = "locked"


class Unavailable(GovLinkError):
    """Something the answer depends on (the transparency log …) cannot serve it now; nothing was released."""

    status = 503
    code = "unavailable"


class TooManyRequests(GovLinkError):
    """A rate limit or quota is used up; ``headers`` say when to try again (Retry-After)."""

    status = 429
    code = "too_many_requests"
