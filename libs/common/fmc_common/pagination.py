"""Opaque keyset cursors for paginated lists."""

from __future__ import annotations

import base64
import binascii
import uuid

from fmc_common.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # validate=True: characters outside the alphabet are an error, not silently skipped.
        return base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid; use next_cursor from a previous page") from exc


def after_id(cursor: str | None) -> uuid.UUID | None:
    """The UUID key a page starts after (keyset pagination over UUID primary keys)."""
    raw = decode_cursor(cursor)
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid; use next_cursor from a previous page") from exc


# Sequences are BIGINT columns: a position outside them is not a cursor we issued (and would make
# the database driver fail rather than find nothing).
_MAX_SEQ = 2**63 - 1


def after_seq(cursor: str | None) -> int | None:
    """The integer position a page starts after (keyset pagination over sequences)."""
    raw = decode_cursor(cursor)
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > _MAX_SEQ:
        raise InvalidInput("the cursor is not valid; use next_cursor from a previous page")
    return int(raw)


def next_cursor(last: uuid.UUID | int | None, more: bool) -> str | None:
    """The cursor of the next page, or None on the last page."""
    return encode_cursor(str(last)) if more and last is not None else None
