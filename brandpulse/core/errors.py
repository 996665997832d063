"""The one exception tree of brandpulse.

Every error raised by brandpulse code is a :class:`BrandpulseError`. Third-party
errors (SQLAlchemy, pydantic, HTTP clients, model loaders) are translated into
one of these at the edge where they happen. Each message says what failed, on
what input, and what to do about it::

    BrandpulseError
    ├── ConfigError            config.yaml or environment is wrong
    │   └── MissingSecretError a source is enabled but its secret is not set
    ├── StoreError             the database could not be reached or written
    │   └── MigrationError     the schema could not be created or upgraded
    ├── ImportFormatError      an import file cannot be read at all
    ├── RecordError            one record is malformed (quarantined, batch goes on)
    ├── QueryError             a brand's boolean query does not parse
    ├── CollectorError         a source failed to deliver a page
    │   ├── RateLimitedError   the source asked us to wait
    │   │   └── UsageCappedError  a usage cap with no useful reset: the source is paused
    │   └── SourceUnavailableError  the source is down or refused us
    ├── AnalysisError          the NLP pipeline failed on a batch or a text
    └── CareError              a care action cannot be done as asked
        ├── AccessDeniedError  the user's role does not allow the page or action
        │   ├── SessionEndedError    the dashboard session expired or was revoked
        │   └── LoginThrottledError  too many failed sign-ins: wait ``retry_after`` s
        ├── NotFoundError      the ticket, user or author named does not exist
        └── WorkflowError      the ticket cannot move that way (e.g. resolved → assigned)
"""

from __future__ import annotations

from datetime import datetime


class BrandpulseError(Exception):
    """Base of every error brandpulse raises on purpose; its text never shows a credential."""

    def __str__(self) -> str:
        from brandpulse.core.redaction import redact_secrets  # kernel to kernel; stdlib only

        return redact_secrets(super().__str__())


class ConfigError(BrandpulseError):
    """Settings are invalid: names the key, the value and the fix."""


class MissingSecretError(ConfigError):
    """An enabled source needs a secret that is not in the environment or .env."""


class StoreError(BrandpulseError):
    """The database could not be reached, read or written."""


class MigrationError(StoreError):
    """The schema could not be created or upgraded."""


class ImportFormatError(BrandpulseError):
    """An import file cannot be read at all (missing, wrong format, no header)."""


class RecordError(BrandpulseError):
    """One record is malformed; it is quarantined and the batch goes on."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class QueryError(BrandpulseError):
    """A brand's boolean query is not valid."""


class CollectorError(BrandpulseError):
    """A source failed to deliver a page."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class RateLimitedError(CollectorError):
    """The source asked us to wait; ``until`` is when it resets (None if unknown)."""

    def __init__(self, message: str, *, source: str = "", until: datetime | None = None) -> None:
        super().__init__(message, source=source)
        self.until = until


class UsageCappedError(RateLimitedError):
    """The source's usage cap is reached and it gives no useful reset; pause the source."""


class SourceUnavailableError(CollectorError):
    """The source is down, timed out, or refused our credentials."""


class PublishError(BrandpulseError):
    """A reply could not be published; ``reason`` is the network's own words."""

    def __init__(self, message: str, *, network: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.network, self.reason = network, reason


class ReplyRejectedError(PublishError):
    """The network refused the reply for certain (bad credentials, deleted post, too long, ...):
    nothing was posted; fix the cause, then retry."""


class ReplyRateLimitedError(PublishError):
    """The network asked us to wait; nothing was posted; ``until`` is when to try again (None: unknown)."""

    def __init__(self, message: str, *, network: str = "", reason: str = "",
                 until: datetime | None = None) -> None:
        super().__init__(message, network=network, reason=reason)
        self.until = until


class ReplyUncertainError(PublishError):
    """A timeout, a lost connection or a 5xx after the request was sent: the reply may be posted.
    Look for it on the network before sending again."""


class AnalysisError(BrandpulseError):
    """The analysis pipeline failed on a batch or on one text."""


class CareError(BrandpulseError):
    """A care or account action cannot be done as asked."""


class AccessDeniedError(CareError):
    """The user's role does not allow this page or action."""


class NotFoundError(CareError):
    """The ticket, user or author named does not exist (any more)."""


class WorkflowError(CareError):
    """The ticket cannot make this move from its current state."""


class StaleTicketError(WorkflowError):
    """The ticket changed since the user opened it; reload it and act again."""


class SessionEndedError(AccessDeniedError):
    """The dashboard session expired, was signed out or was revoked: sign in again."""


class LoginThrottledError(AccessDeniedError):
    """Too many failed sign-ins for a name or from a client; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiTokenError(AccessDeniedError):
    """The API token is missing, unknown, expired or revoked, or its user is inactive."""


class WebhookError(BrandpulseError):
    """A webhook subscription is invalid (URL, event types) or its delivery cannot be made."""
