"""Building blocks of request bodies: strict models, bounded printable strings, no NUL characters.

Every service's request bodies subclass `Input`. The string aliases carry their bounds into the
OpenAPI schema; a service that needs other bounds narrows an alias where it is used
(`Annotated[Reason, Field(min_length=10, max_length=4000)]`: the later `Field` wins) rather than
declaring a second type.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Self, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# Bounds on amounts keep every sum far inside a signed 64-bit column (10^15 won = a million billion).
MAX_WON = 10**15


def printable(value: str) -> str:
    """Refuses control characters (newlines included): for names and identifiers, not prose."""
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


def has_nul(value: Any) -> bool:
    """NUL cannot be stored in PostgreSQL text: refused at the edge rather than failing in the database.

    Looks inside nested models and containers too: a nested model need not be an `Input` itself.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return has_nul(value.model_dump())
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    return False


def nul_free(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# A free-text query parameter compared with a text column (has_nul says why).
QueryText = Annotated[str, AfterValidator(nul_free)]


def _is_number(annotation: Any) -> bool:
    """int or float, possibly optional or annotated (bool is not a number here)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_number(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(members) and all(_is_number(a) for a in members)
    return annotation in (int, float)


class Input(BaseModel):
    """A request body: unknown fields are refused, strings are trimmed and free of NUL characters.

    Numbers are numbers: money, counts and scores refuse ``true`` and ``"1"`` (pydantic's lax mode
    would take both), and floats must be finite (no NaN, no Infinity).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if key in data and _is_number(field.annotation) and isinstance(data[key], bool | str | bytes):
                    raise ValueError(f"{key} must be a number, not {type(data[key]).__name__}")
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class NulFree(BaseModel):
    """A request body that mirrors an event's types field for field (so it is not an `Input`): NUL
    characters are refused all the same, anywhere in it, before they reach a text column."""

    @model_validator(mode="after")
    def _no_nul_anywhere(self) -> Self:
        if has_nul(self):
            raise ValueError("must not contain NUL characters")
        return self


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable)]
# Free text an operator writes to justify an action; prose, so line breaks are allowed.
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Won = Annotated[int, Field(ge=1, le=MAX_WON, description="Integer won")]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Version = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")]
Language = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
