"""The error hierarchy of omnistock: the API maps these to problem responses, the CLI to one-line messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class OmnistockError(Exception):
    """Base of every error omnistock raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(OmnistockError):
    status = 404
    title = "Not found"


class Invalid(OmnistockError):
    """Input that breaks a rule; `field` names the offending field where there is one."""

    status = 422
    title = "Invalid input"

    def __init__(self, message: str, *, field: str | None = None, errors: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(message, field=field)
        self.errors = list(errors)


class Conflict(OmnistockError):
    status = 409
    title = "Conflict"


class Unauthorized(OmnistockError):
    status = 401
    title = "Unauthorized"


class Forbidden(OmnistockError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Shortfall:
    """One order line that could not be reserved in full."""

    sku: str
    wanted: int
    reservable: int


class InsufficientStock(OmnistockError):
    status = 409
    title = "Insufficient stock"

    def __init__(self, shortfalls: Sequence[Shortfall]) -> None:
        self.shortfalls = list(shortfalls)
        text = ", ".join(f"{s.sku}: wanted {s.wanted}, reservable {s.reservable}" for s in self.shortfalls)
        super().__init__(f"insufficient stock ({text})")


# --- platform errors: raised by channel adapters, understood by the sync engine -------------------


class ChannelError(OmnistockError):
    """A platform call failed. `retryable` tells the sync engine whether to try again."""

    status = 502
    title = "Platform error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class PlatformThrottled(ChannelError):
    """The platform refused the call for rate reasons; wait `retry_after` seconds."""

    title = "Platform throttled"
    retryable = True

    def __init__(self, message: str, *, retry_after: float = 1.0, code: str | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.retry_after = retry_after


class PlatformAuthFailed(ChannelError):
    title = "Platform authentication failed"


class PlatformNotFound(ChannelError):
    title = "Not found on platform"


class PlatformInvalid(ChannelError):
    title = "Platform rejected the request"


class PlatformTransient(ChannelError):
    """Timeouts, 5xx, connection errors and the platform's own 'try again' codes."""

    title = "Platform temporarily unavailable"
    retryable = True


class SignatureInvalid(OmnistockError):
    """A webhook delivery whose signature does not verify."""

    status = 401
    title = "Invalid signature"
