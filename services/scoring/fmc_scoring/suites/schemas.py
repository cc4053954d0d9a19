from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.inputs import Input, Language, Name, Slug, Version
from fmc_scoring.values import ItemKind

Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Short = Annotated[str, Field(min_length=1, max_length=2_000)]
CodeTests = Annotated[str, Field(min_length=1, max_length=64_000)]
EntryPoint = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class SuiteItemIn(Input):
    """One item and its key (the key is stored apart and never served)."""

    item_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    prompt: Text
    choices: list[Short] | None = Field(default=None, min_length=2, max_length=26)
    labels: list[Annotated[str, Field(min_length=1, max_length=8)]] | None = Field(
        default=None, max_length=26
    )
    answer: Annotated[str, Field(max_length=2_000)] | float | None = Field(
        default=None, description="Multiple choice: a label or a choice; exact: the answer; numeric: a number"
    )
    answer_index: int | None = Field(default=None, ge=0, le=25, description="Multiple choice, 0-based")
    answers: list[Short] | None = Field(
        default=None, max_length=50, description="Exact match: accepted answers"
    )
    aliases: list[Short] | None = Field(default=None, max_length=50)
    rel_tol: float | None = Field(default=None, ge=0.0, le=1.0)
    tests: CodeTests | None = Field(
        default=None, description="Code: hidden tests, Python source with plain asserts (never served)"
    )
    entry_point: EntryPoint | None = Field(default=None, description="Code: the function the tests call")

    def record(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SuiteCreate(Input):
    key: Slug
    version: Version
    title: Name
    language: Language = Field(examples=["ko", "en"])
    kind: ItemKind
    items: list[SuiteItemIn] = Field(min_length=1, max_length=50_000)


class ColumnsIn(Input):
    question: Annotated[str, Field(min_length=1, max_length=100)] = "question"
    choices: Annotated[str, Field(min_length=1, max_length=100)] | None = "choices"
    answer: Annotated[str, Field(min_length=1, max_length=100)] = "answer"
    item_id: Annotated[str, Field(min_length=1, max_length=100)] | None = "id"


class SuiteImport(Input):
    """A suite from a file below the service's suites directory."""

    format: Literal["jsonl", "lm-eval", "hf-jsonl"]
    path: Annotated[str, Field(min_length=1, max_length=1000)]
    key: Slug | None = Field(default=None, description="Required except for lm-eval (the task name)")
    version: Version
    title: Name | None = None
    language: Language
    kind: ItemKind | None = Field(default=None, description="Required except for lm-eval (from output_type)")
    split: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")] = "test"
    columns: ColumnsIn = ColumnsIn()


class SuiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    version: str
    title: str
    language: str
    kind: str
    source: str
    demo: bool = Field(description="Demo data written for this project: not a real benchmark")
    item_count: int
    content_hash: str = Field(description="sha256 over items and keys (canonical JSON)")
    items_sha256: str = Field(description="sha256 of the prompts document the gateway fetches")
    key_revision: int = Field(description="The answer key's revision in force (1: as created)")
    created_at: datetime


class SuitePage(BaseModel):
    items: list[SuiteOut]
    next_cursor: str | None


class SuiteItemOut(BaseModel):
    """An item as the model sees it: prompt and choices, never the key."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    item_id: str
    prompt: str
    choices: list[str] | None
    labels: list[str] | None


class SuiteItemPage(BaseModel):
    items: list[SuiteItemOut]
    next_cursor: str | None


class KeyCorrectionIn(Input):
    """One item's corrected key, in the fields a suite item states its key with."""

    item_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    answer: Annotated[str, Field(max_length=2_000)] | float | None = None
    answer_index: int | None = Field(default=None, ge=0, le=25)
    answers: list[Short] | None = Field(default=None, max_length=50)
    aliases: list[Short] | None = Field(default=None, max_length=50)
    rel_tol: float | None = Field(default=None, ge=0.0, le=1.0)
    tests: CodeTests | None = Field(
        default=None, description="Code: hidden tests, Python source with plain asserts (never served)"
    )
    entry_point: EntryPoint | None = Field(default=None, description="Code: the function the tests call")

    def record(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class KeyErratumIn(Input):
    """An erratum: the corrected items and why (published to every team, audited)."""

    reason: Annotated[str, Field(min_length=1, max_length=2_000)]
    items: list[KeyCorrectionIn] = Field(min_length=1, max_length=1_000)


class KeyRevisionOut(BaseModel):
    """A revision of a suite's answer key as every team sees it: which items, why, the key's hash
    (never the answers)."""

    model_config = ConfigDict(from_attributes=True)

    suite_id: uuid.UUID
    revision: int
    reason: str
    item_ids: list[str]
    keys_sha256: str
    published_at: datetime
