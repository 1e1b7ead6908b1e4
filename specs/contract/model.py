"""The vocabulary of the contract check: what one difference between our spec
and the official contract is, and how much it matters.

Kept apart from the comparison code so that the schema walker, the operation
walker and the allowance reader all speak the same typed records without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["ContractError", "Difference", "Kind", "Severity"]


class ContractError(ValueError):
    """Bad input to the check (a file missing, not YAML, not OpenAPI): one line, no traceback."""


class Severity(StrEnum):
    """How a difference weighs.

    `contradiction`: something valid by one document is not valid by the other
    in a way the contract's users would notice (ours allows a null they never
    send, omits a field they require, names an operation differently, lacks a
    status they document, ...). Never acceptable.

    `stricter`: ours narrows a value both documents describe (a length limit,
    a pattern, a const, a field or parameter made required, null refused).
    Acceptable only where `requirements.yaml` says why (`stricter_than_contract`).

    `info`: worth knowing, changes nothing for either side's users (a field or
    error status only one side describes where the other leaves it open).
    """

    CONTRADICTION = "contradiction"
    STRICTER = "stricter"
    INFO = "info"


class Kind(StrEnum):
    """What differs."""

    OPERATION = "operation"  # an operation of ours the contract does not have
    OPERATION_ID = "operation_id"
    SECURITY = "security"  # scheme names an operation requires
    SECURITY_SCHEME = "security_scheme"  # how a scheme is defined
    SCOPES = "scopes"  # x-required-scopes
    PARAMETER = "parameter"  # a parameter or header only one side has
    PARAMETER_REQUIRED = "parameter_required"
    REQUEST_BODY = "request_body"
    REQUEST_BODY_REQUIRED = "request_body_required"
    MEDIA_TYPE = "media_type"
    STATUS = "status"
    HEADER = "header"  # a response header
    PROPERTY = "property"  # a field only one side describes
    REQUIRED = "required"
    NULLABLE = "nullable"
    TYPE = "type"
    FORMAT = "format"
    ENUM = "enum"
    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    MIN_ITEMS = "min_items"
    MAX_ITEMS = "max_items"
    PATTERN = "pattern"
    ADDITIONAL_PROPERTIES = "additional_properties"
    ITEMS = "items"
    COMPOSITION = "composition"  # oneOf/anyOf this check compares only by type
    ALLOWANCE = "allowance"  # a stricter_than_contract entry that explains nothing


@dataclass(frozen=True)
class Difference:
    """One difference at one place of one operation.

    `operation` is "METHOD /path" (as ours spells the path) and `operation_id`
    the contract's id for it (ours where the contract has none), so a line
    names the call both ways. `location` is a JSON-pointer-like path inside
    the operation: `/parameters/header/Idempotency-Key`,
    `/requestBody/fingerprint`, `/responses/200/data/features/items/quota`.
    `ours` and `theirs` are short renderings of each side's value (None: that
    side says nothing). `explained_by` is set on a stricter point that
    `requirements.yaml` explains: "<requirement id>: <reason>".
    """

    operation: str
    operation_id: str | None
    location: str
    kind: Kind
    severity: Severity
    ours: str | None
    theirs: str | None
    note: str
    explained_by: str | None = None

    @property
    def failing(self) -> bool:
        """True when this difference alone makes the check fail."""
        if self.severity is Severity.CONTRADICTION:
            return True
        return self.severity is Severity.STRICTER and self.explained_by is None

    def explained(self, by: str) -> Difference:
        return replace(self, explained_by=by)
