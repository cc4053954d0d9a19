"""Fetching a run's items by reference: a JSON Lines document of ``{"item_id", "prompt"}`` or
``{"item_id", "messages": [{"role", "content"}, ...]}`` objects, or, for a log-likelihood run,
``{"item_id", "context", "continuations": [...]}`` (the choices' texts, scored after the context).

The source is scoring's API (HTTP(S), with a service token for scoring as a bearer) or a file below
the configured items directory (the embedded demo); ``sources.py`` says which references are
allowed, and is asked again here, before anything leaves. Any other field on a line is refused: the
gateway must never receive answer keys. A conversation is an optional system message, then user
and assistant turns alternating, ending with a user turn (what every chat template, and the
OpenAI-compatible servers, accept), at most ``MAX_TURNS`` messages and ``MAX_TEXT`` characters in
all. Failures come in two kinds: ``ItemsUnavailable`` (the source did not answer: try again later)
and ``ItemsInvalid`` (the document is wrong: the run fails).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fmc_common.service_tokens import TokenSource, authorization
from fmc_gateway.runs.sources import FileSource, ItemsSources, UriNotAllowed
from fmc_gateway.serving.prompts import ChatMessage, Role


class ItemsUnavailable(Exception):
    """The items source did not answer; worth trying again."""


class ItemsInvalid(Exception):
    """The items document (or its reference) is wrong; trying again will not help."""


MAX_TEXT = 200_000
"""Characters of one item's prompt, or of all its messages' contents together."""
MAX_TURNS = 100
MAX_CONTINUATIONS = 26
"""Choices of one log-likelihood item (A to Z)."""


def _storable(value: str) -> str:
    # Stored in text columns: PostgreSQL holds neither NUL nor a lone surrogate (not UTF-8).
    if "\x00" in value:
        raise ValueError("holds a NUL character (\\u0000), which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("holds a lone surrogate (not valid UTF-8), which cannot be stored") from exc
    return value


class MessageLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("content")
    @classmethod
    def _content_storable(cls, value: str) -> str:
        return _storable(value)


class ItemLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str = Field(min_length=1, max_length=200)
    prompt: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    messages: tuple[MessageLine, ...] | None = Field(default=None, min_length=1, max_length=MAX_TURNS)
    context: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    """A log-likelihood item's context: the text the continuations are scored after."""
    continuations: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=MAX_CONTINUATIONS)

    @field_validator("item_id", "prompt", "context")
    @classmethod
    def _text_storable(cls, value: str | None) -> str | None:
        return value if value is None else _storable(value)

    @field_validator("continuations")
    @classmethod
    def _continuations_storable(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for text in value or ():
            if not text or len(text) > MAX_TEXT:
                raise ValueError(f"each continuation holds 1 to {MAX_TEXT} characters")
            _storable(text)
        return value

    @model_validator(mode="after")
    def _one_input(self) -> ItemLine:
        if sum(value is not None for value in (self.prompt, self.messages, self.context)) != 1:
            raise ValueError("needs exactly one of prompt, messages and context")
        if (self.context is None) != (self.continuations is None):
            raise ValueError("context and continuations go together (a log-likelihood item)")
        if self.messages is not None:
            _check_conversation(self.messages)
        if (
            self.context is not None
            and len(self.context) + sum(map(len, self.continuations or ())) > MAX_TEXT
        ):
            raise ValueError(f"context and continuations: more than {MAX_TEXT} characters in all")
        return self

    @property
    def loglikelihood(self) -> bool:
        return self.context is not None


def chat_messages(stored: list[dict[str, str]] | None) -> tuple[ChatMessage, ...] | None:
    """An item's messages as stored (``RunItem.messages``, validated when the run was prepared)."""
    if stored is None:
        return None
    return tuple(ChatMessage(line.role, line.content) for line in map(MessageLine.model_validate, stored))


def _check_conversation(messages: tuple[MessageLine, ...]) -> None:
    turns = messages[1:] if messages[0].role == "system" else messages
    if not turns:
        raise ValueError("messages: a system message alone asks nothing; the last message must be the user's")
    for index, message in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if message.role != expected:
            raise ValueError(
                f"messages: a system message only first, then user and assistant turns alternating "
                f"from the user; found {message.role!r} where {expected!r} belongs"
            )
    if turns[-1].role != "user":
        raise ValueError("messages: the last message must be the user's (the model answers it)")
    if sum(len(m.content) for m in messages) > MAX_TEXT:
        raise ValueError(f"messages: more than {MAX_TEXT} characters in all")


@dataclass(frozen=True)
class ItemsPolicy:
    token: TokenSource  # a fresh service token for scoring, asked for before each fetch
    sources: ItemsSources
    max_bytes: int
    timeout: float


async def fetch_items(
    uri: str, expected_count: int, sha256: str | None, policy: ItemsPolicy
) -> list[ItemLine]:
    """The items at ``uri``, checked against the expected count and content hash."""
    try:
        # Checked when the run was accepted; again here, for a run stored before the rule or under
        # other settings: the token and the request go nowhere the settings do not name.
        target = policy.sources.check(uri)
    except UriNotAllowed as exc:
        raise ItemsInvalid(f"{exc.code}: {exc.detail}") from exc
    if isinstance(target, FileSource):
        raw = await asyncio.to_thread(_read_file, target.path, policy)
    else:
        raw = await _fetch_http(target.url, policy)
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise ItemsInvalid(
            "the items document does not match its sha256: it changed since the run was planned"
        )
    # Parsed in a worker thread: a large document must not stall the event loop serving other runs.
    return await asyncio.to_thread(parse_items, raw, expected_count)


def parse_items(raw: bytes, expected_count: int) -> list[ItemLine]:
    items: list[ItemLine] = []
    seen: set[str] = set()
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = ItemLine.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            detail = _detail(exc)
            raise ItemsInvalid(
                f"items line {number} is not an object with only item_id and prompt (or item_id "
                f"and messages, or item_id, context and continuations): {detail}"
            ) from exc
        if item.item_id in seen:
            raise ItemsInvalid(f"items line {number}: item_id {item.item_id!r} appears twice")
        seen.add(item.item_id)
        items.append(item)
    if len(items) != expected_count:
        raise ItemsInvalid(
            f"the items document holds {len(items)} items; the request announced {expected_count}"
        )
    return items


def _detail(exc: ValueError) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    return f"{field}: {error['msg']}" if field else str(error["msg"])


async def _fetch_http(uri: httpx.URL, policy: ItemsPolicy) -> bytes:
    headers = {"Accept": "application/x-ndjson, application/jsonl, */*"}
    headers.update(authorization(policy.token()))
    try:
        # Service to service inside the cluster: never through an ambient HTTP(S)_PROXY. A redirect
        # is not followed (it could lead to any origin, token in hand): it is an answer other than 200.
        async with (
            httpx.AsyncClient(timeout=policy.timeout, trust_env=False, follow_redirects=False) as client,
            client.stream("GET", uri, headers=headers) as response,
        ):
            if response.status_code >= 500:
                raise ItemsUnavailable(f"the items source answered {response.status_code}")
            if response.is_redirect:
                status = response.status_code
                raise ItemsInvalid(f"the items source answered {status}: redirects are not followed")
            if response.status_code != 200:
                raise ItemsInvalid(f"the items source answered {response.status_code} for {uri}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > policy.max_bytes:
                    raise ItemsInvalid(f"the items document is larger than {policy.max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise ItemsUnavailable(f"the items source did not answer: {exc!r}") from exc


def _read_file(path: Path, policy: ItemsPolicy) -> bytes:
    directory = policy.sources.directory
    if directory is None:
        raise ItemsInvalid("file references are not enabled on this gateway (FMC_GATEWAY_ITEMS_DIRECTORY)")
    root = directory.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise ItemsInvalid(f"file references must be below {root}")
    try:
        if resolved.stat().st_size > policy.max_bytes:
            raise ItemsInvalid(f"the items document is larger than {policy.max_bytes} bytes")
        return resolved.read_bytes()
    except FileNotFoundError as exc:
        raise ItemsInvalid(f"no items document at {resolved}") from exc
    except OSError as exc:
        raise ItemsUnavailable(f"cannot read {resolved}: {exc}") from exc
