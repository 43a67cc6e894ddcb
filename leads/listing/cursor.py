"""Where a keyset page starts, as a token in a URL."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from leads.models import Lead

from .sorts import SORTS


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the sort key of the row next to it, its position,
    and the sort it belongs to (a column header keeps the cursor in its link;
    another sort must not reuse it)."""

    sort: str
    key: tuple
    position: int

    def encode(self) -> str:
        data = json.dumps([self.sort, self.position, [_jsonable(v) for v in self.key]])
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None, sort: str) -> Cursor | None:
        """The cursor in a URL for `sort`, or None when it is missing, for
        another sort or not one of ours."""
        if not value:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            cursor_sort, position, raw = data
            names = (*SORTS[sort.lstrip("-")], "id")
            if (
                cursor_sort != sort
                or not isinstance(position, int)
                or position < 1
                or len(raw) != len(names)
            ):
                return None
            key = tuple(
                Lead._meta.get_field(name).to_python(v) for name, v in zip(names, raw, strict=True)
            )
            if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in key):
                return None  # no row has such a key, and the database would overflow on it
        except (ValueError, TypeError, OverflowError, ValidationError, binascii.Error):
            return None
        return cls(sort=sort, key=key, position=position)


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
