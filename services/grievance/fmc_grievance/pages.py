"""Keyset pagination over UUID primary keys, shared by the list endpoints."""

from __future__ import annotations

import uuid

from fmc_common.errors import InvalidInput
from fmc_common.pagination import decode_cursor, encode_cursor


def after_id(cursor: str | None) -> uuid.UUID | None:
    raw = decode_cursor(cursor)
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid; use next_cursor from a previous page") from exc


def after_seq(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    try:
        return int(raw) if raw else None
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid; use next_cursor from a previous page") from exc


def next_cursor(last: object | None, more: bool) -> str | None:
    return encode_cursor(str(last)) if more and last is not None else None
