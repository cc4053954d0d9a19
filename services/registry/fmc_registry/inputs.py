"""Building blocks of request bodies: strict models and bounded, printable strings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Bounds on amounts keep every sum far inside a signed 64-bit column (10^15 won = a million billion).
MAX_WON = 10**15


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


def has_nul(value: Any) -> bool:
    """NUL cannot be stored in PostgreSQL text: refused at the edge rather than failing in the database."""
    if isinstance(value, str):
        return "\x00" in value
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


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Won = Annotated[int, Field(ge=1, le=MAX_WON, description="Integer won")]
