"""One error tree for the whole product. Only the shells map these to close codes,
HTTP statuses, dialogs or exit statuses."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes carried by the wire `error` message (see docs/protocol.md)."""

    BAD_TICKET = "bad_ticket"
    ENTRY_NOT_OPEN = "entry_not_open"
    ENTRY_CLOSED = "entry_closed"
    EXAM_OVER = "exam_over"
    PROTOCOL_ERROR = "protocol_error"
    NOT_ALLOWED = "not_allowed"
    DEADLINE_PASSED = "deadline_passed"
    IDENTITY_REQUIRED = "identity_required"
    UNKNOWN_QUESTION = "unknown_question"
    BAD_CHOICE = "bad_choice"
    TRIAL_UNAVAILABLE = "trial_unavailable"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"
    BAD_IMAGE = "bad_image"
    DUPLICATE_ID = "duplicate_id"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    BAD_TOKEN = "bad_token"  # a proctor's sign-in token is unknown or revoked
    INTERNAL_ERROR = "internal_error"


class ProctorError(Exception):
    """Root of every error the product raises on purpose."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None, ref: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.ref = ref  # the client message id this error answers, when there is one

    def __str__(self) -> str:
        return self.message


class ProtocolError(ProctorError):
    """Malformed wire input: bad JSON, unknown type, missing or mistyped fields, bad header."""

    code = ErrorCode.PROTOCOL_ERROR


class RuleError(ProctorError):
    """A well-formed request that the exam rules refuse (entry window, deadline, state)."""

    code = ErrorCode.NOT_ALLOWED


class InvalidTransition(RuleError):
    """An attempt state change that the transition table does not allow."""


class ConfigError(ProctorError):
    """Bad input given by staff: a question bank, a command-line value, a file."""
