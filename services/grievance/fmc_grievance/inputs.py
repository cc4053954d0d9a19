"""Building blocks of request bodies: strict models, trimmed strings without NUL characters."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def has_nul(value: Any) -> bool:
    """NUL cannot be stored in PostgreSQL text: refused at the edge rather than failing in the database."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return any(has_nul(v) for v in value.__dict__.values())
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class Input(BaseModel):
    """A request body: unknown fields are refused, strings are trimmed and free of NUL characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


# A written reason: a word or two is not a reason.
Reason = Annotated[str, Field(min_length=10, max_length=4000)]
Statement = Annotated[str, Field(min_length=1, max_length=20_000)]
