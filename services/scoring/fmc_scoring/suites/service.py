"""Suites: creating versions (idempotent on identical content), demo suites, local imports, reads."""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.artefacts import (
    ArtefactError,
    ArtefactKeyRefused,
    ArtefactMissing,
    ArtefactPath,
    ArtefactStore,
)
from fmc_common.errors import Conflict, InvalidInput, NotFound, Unavailable
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.suites import repository
from fmc_scoring.suites.content import (
    ItemContent,
    Prompt,
    SuiteContent,
    SuiteSource,
    content_hash,
    items_document,
    key_from_json,
    key_json,
    loglikelihood_document,
    prompts_of,
    sha256_hex,
)
from fmc_scoring.suites.loaders import (
    ColumnMapping,
    SuiteFormatError,
    SuiteMeta,
    item_from_record,
    load_hf_directory,
    load_jsonl,
    load_lm_eval_task,
)
from fmc_scoring.suites.models import Suite, SuiteAnswerKey, SuiteItem, SuiteKeyRevision
from fmc_scoring.values import ItemKind


class SuiteNotFound(NotFound):
    code = "suite-not-found"
    title = "No such suite"


class SuiteVersionExists(Conflict):
    code = "suite-version-exists"
    title = "This suite version exists with other content; publish a new version"


class SuiteInvalid(InvalidInput):
    code = "suite-invalid"
    title = "The suite is not valid"


class ErratumInvalid(InvalidInput):
    code = "erratum-invalid"
    title = "The erratum names an item the suite does not have, twice, or does not change its key"


class SuiteStoreUnavailable(Unavailable):
    code = "suite-store-unavailable"
    title = "The suite files could not be read from the artefact store; try again"


class SuitePathRefused(InvalidInput):
    code = "suite-path-refused"
    title = "Suite files must be inside the suites directory"


async def create_suite(ctx: ScoringCtx, content: SuiteContent) -> Suite:
    """A new suite version. The same key, version and content again returns the existing one."""
    digest = content_hash(content.kind, content.items)
    existing = await repository.by_key(ctx.session, content.key, content.version)
    if existing is not None:
        if existing.content_hash == digest:
            return existing
        raise SuiteVersionExists(
            f"{content.key} {content.version} exists with content {existing.content_hash[:12]}…",
            suite_id=str(existing.id),
        )
    suite = Suite(
        id=uuid.uuid4(),
        key=content.key,
        version=content.version,
        title=content.title,
        language=content.language,
        kind=content.kind,
        source=content.source,
        demo=content.demo,
        item_count=len(content.items),
        content_hash=digest,
        items_sha256=sha256_hex(items_document(content.language, prompts_of(content))),
        created_by=ctx.actor.subject,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(suite)
    await ctx.session.flush()
    for seq, item in enumerate(content.items):
        ctx.session.add(_item_row(suite.id, seq, item))
        ctx.session.add(SuiteAnswerKey(suite_id=suite.id, item_id=item.item_id, answer=key_json(item.key)))
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="suite.created",
        entity_type="suite",
        entity_id=suite.id,
        details={
            "key": suite.key,
            "version": suite.version,
            "content_hash": digest,
            "items": suite.item_count,
        },
    )
    return suite


def _item_row(suite_id: uuid.UUID, seq: int, item: ItemContent) -> SuiteItem:
    return SuiteItem(
        suite_id=suite_id,
        seq=seq,
        item_id=item.item_id,
        prompt=item.prompt,
        choices=list(item.choices) or None,
        labels=list(item.labels) or None,
    )


def demo_contents() -> list[SuiteContent]:
    """The demo suites shipped as package data (marked demo)."""
    folder = resources.files("fmc_scoring.suites.demo")
    manifest = json.loads(folder.joinpath("manifest.json").read_text(encoding="utf-8"))
    contents = []
    for entry in manifest["suites"]:
        meta = SuiteMeta(
            entry["key"], entry["version"], entry["title"], entry["language"], ItemKind(entry["kind"]), True
        )
        with resources.as_file(folder.joinpath(entry["file"])) as path:
            contents.append(load_jsonl(path, meta, source=SuiteSource.DEMO))
    return contents


async def install_demo_suites(ctx: ScoringCtx) -> list[Suite]:
    return [await create_suite(ctx, content) for content in demo_contents()]


def resolve(store: ArtefactStore, relative: str) -> Path:
    """The suite file or folder in the store: a local path, or the store's path-like view (which offers
    what the loaders use of ``pathlib.Path``). Anything escaping the store is refused."""
    base = store.local_path()
    target: Path | ArtefactPath
    if base is not None:
        base = base.resolve()
        target = (base / relative).resolve()
        if not target.is_relative_to(base):
            raise SuitePathRefused(f"{relative!r} points outside the suites directory")
    else:
        try:
            target = store.path(relative)
        except ArtefactKeyRefused as exc:
            raise SuitePathRefused(f"{relative!r} points outside the suites directory") from exc
    if not target.exists():
        raise SuiteInvalid(f"nothing at {relative!r} in the suites directory")
    return cast(Path, target)


def load_local(
    store: ArtefactStore, fmt: SuiteSource, relative: str, meta: SuiteMeta, split: str, columns: ColumnMapping
) -> SuiteContent:
    """Load a suite from the suites store (blocking: call it in a worker thread)."""
    try:
        path = resolve(store, relative)
        if fmt == SuiteSource.JSONL:
            return load_jsonl(path, meta)
        if fmt == SuiteSource.LM_EVAL:
            return load_lm_eval_task(path, meta.version, meta.language)
        return load_hf_directory(path, split, meta, columns)
    except SuiteFormatError as exc:
        raise SuiteInvalid(str(exc)) from exc
    except ArtefactKeyRefused as exc:
        raise SuitePathRefused(f"{relative!r}: {exc}") from exc
    except ArtefactMissing as exc:
        raise SuiteInvalid(f"cannot read {relative!r}: {exc}") from exc
    except ArtefactError as exc:
        raise SuiteStoreUnavailable(f"cannot read {relative!r}: {exc}") from exc
    except OSError as exc:
        raise SuiteInvalid(f"cannot read {relative!r}: {exc.strerror}") from exc


async def get_suite(session: AsyncSession, suite_id: uuid.UUID) -> Suite:
    suite = await repository.get(session, suite_id)
    if suite is None:
        raise SuiteNotFound(f"no suite with id {suite_id}")
    return suite


def prompt_of(row: SuiteItem) -> Prompt:
    return Prompt(row.item_id, row.prompt, tuple(row.choices or ()), tuple(row.labels or ()))


async def prompts_document(session: AsyncSession, suite: Suite) -> bytes:
    """The items document of a suite, from the items table only (the keys are never read here)."""
    rows = await repository.items(session, suite.id)
    return items_document(suite.language, (prompt_of(row) for row in rows))


async def loglikelihood_items(session: AsyncSession, suite: Suite) -> bytes:
    """The items document of a log-likelihood run: contexts and continuations (no key)."""
    rows = await repository.items(session, suite.id)
    return loglikelihood_document(suite.language, (prompt_of(row) for row in rows))


RECENT_CONTENTS = 16
"""Suites whose content (items and keys) this process keeps for grading."""
_recent_contents: OrderedDict[tuple[uuid.UUID, str, int, str], SuiteContent] = OrderedDict()


async def load_content(session: AsyncSession, suite: Suite) -> SuiteContent:
    """Items with their keys, for grading inside scoring.

    A suite's items never change and its keys change only by a revision (an erratum, whose record
    holds the hash of the keys it put in force), so the content is kept per suite, content hash,
    revision and that hash: every run of a suite (thousands of items, read before and after a judge
    run) reads it once. A revision rolled back and published again with other keys has another hash.
    """
    keys_sha256 = ""
    if suite.key_revision > 1:
        keys_sha256 = await repository.revision_keys_sha256(session, suite.id, suite.key_revision) or ""
    cache_key = (suite.id, suite.content_hash, suite.key_revision, keys_sha256)
    kept = _recent_contents.get(cache_key)
    if kept is not None:
        _recent_contents.move_to_end(cache_key)
        return kept
    content = _content(suite, await repository.content_rows(session, suite.id))
    _recent_contents[cache_key] = content
    while len(_recent_contents) > RECENT_CONTENTS:
        _recent_contents.popitem(last=False)
    return content


def _content(
    suite: Suite, rows: list[tuple[str, str, list[str] | None, list[str] | None, dict[str, Any]]]
) -> SuiteContent:
    items = tuple(
        ItemContent(item_id, prompt, key_from_json(answer), tuple(choices or ()), tuple(labels or ()))
        for item_id, prompt, choices, labels, answer in rows
    )
    return SuiteContent(
        suite.key,
        suite.version,
        suite.title,
        suite.language,
        suite.kind,
        items,
        suite.demo,
        suite.source,
    )


def keys_sha256(keys: dict[str, dict[str, Any]]) -> str:
    """sha256 over the whole answer key (canonical JSON, by item id): what a revision pins."""
    canonical = json.dumps(
        [{"item_id": item_id, "key": keys[item_id]} for item_id in sorted(keys)],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return sha256_hex(canonical.encode())


async def publish_erratum(
    ctx: ScoringCtx, suite_id: uuid.UUID, reason: str, corrections: Sequence[Mapping[str, Any]]
) -> SuiteKeyRevision:
    """A new revision of the suite's answer key: the corrected items' keys replace theirs, the old
    ones are kept in the revision's record. Visible to every team (item ids, reason, hash; never the
    answers); grades move to it only when a re-evaluation re-grades the stored responses."""
    suite = await get_suite(ctx.session, suite_id)
    items = {row.item_id: row for row in await repository.items(ctx.session, suite_id)}
    keys = await repository.answer_keys(ctx.session, suite_id)
    named = [str(c["item_id"]) for c in corrections]
    if len(set(named)) != len(named):
        raise ErratumInvalid("each item may be corrected once per erratum")
    unknown = sorted(set(named) - set(items))
    if unknown:
        raise ErratumInvalid(f"suite {suite.key}@{suite.version} has no item {unknown[0]!r}", items=unknown)
    changes = []
    for index, correction in enumerate(corrections):
        row = items[str(correction["item_id"])]
        record = {**correction, "prompt": row.prompt, "choices": row.choices, "labels": row.labels}
        try:
            key = key_json(item_from_record(suite.kind, record, f"items[{index}]").key)
        except SuiteFormatError as exc:
            raise ErratumInvalid(str(exc)) from exc
        before = keys[row.item_id].answer
        if key == before:
            raise ErratumInvalid(f"item {row.item_id!r}: the corrected key is the key in force")
        changes.append({"item_id": row.item_id, "before": before, "after": key})
        keys[row.item_id].answer = key
    suite.key_revision += 1
    await ctx.session.flush()
    revision = SuiteKeyRevision(
        suite_id=suite.id,
        revision=suite.key_revision,
        reason=reason,
        item_ids=named,
        changes=changes,
        keys_sha256=keys_sha256({item_id: row.answer for item_id, row in keys.items()}),
        published_by=ctx.actor.subject,
        published_at=ctx.clock.now(),
    )
    ctx.session.add(revision)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="suite.key-revised",
        entity_type="suite",
        entity_id=suite.id,
        reason=reason,
        details={"revision": revision.revision, "item_ids": named, "keys_sha256": revision.keys_sha256},
    )
    return revision
