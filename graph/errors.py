"""Error mapping: every GraphQL error leaves with ``extensions.code``.

Domain errors keep their message and code; permission-class denials are ``FORBIDDEN``;
query validation problems are ``BAD_USER_INPUT``; anything else is masked as ``INTERNAL``
with the request id, and logged with its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from backend.errors import DomainError
from backend.logging import log

CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "RATE_LIMITED",
    "INTERNAL",
}


def classify(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    code = (error.extensions or {}).get("code")
    if code in CODES:
        return str(code)
    if original is None:
        return "BAD_USER_INPUT"  # parse/validation errors carry no original exception
    return "INTERNAL"


class CodedErrors(MaskErrors):
    """Adds codes and masks unexpected errors; the request id lets operators find the log line."""

    def __init__(self, request_id: Callable[[], str | None]) -> None:
        super().__init__(
            should_mask_error=lambda e: classify(e) == "INTERNAL", error_message="Internal error"
        )
        self._request_id = request_id

    def _process_result(self, result: object) -> None:
        # Strawberry's check is an isinstance against a runtime Protocol (~20 µs per streamed event).
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out: list[GraphQLError] = []
        for error in errors:
            code = classify(error)
            if code == "INTERNAL":
                rid = self._request_id()
                log.error(
                    "graphql.internal_error", request_id=rid, path=error.path, exc_info=error.original_error
                )
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL", "requestId": rid}
                out.append(masked)
                continue
            extensions: dict[str, Any] = dict(error.extensions or {})
            extensions["code"] = code
            original = error.original_error
            if isinstance(original, DomainError):
                if original.field:
                    extensions["field"] = original.field
                if original.details:
                    extensions.update(original.details)
            error.extensions = extensions
            out.append(error)
        return out
