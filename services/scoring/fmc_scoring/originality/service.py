"""Originality: registering donors in the reference library, running checks, reading reports.

The heavy work (reading weights) runs in a worker thread so the event loop keeps serving; the
database work stays in the caller's transaction (the edge commits), and the verdict event goes
through the outbox in that same transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
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
from fmc_common.clock import Clock
from fmc_common.errors import Conflict, InvalidInput, NotFound, Unavailable
from fmc_common.events.scoring import (
    OriginalityVerdictIssued,
    OriginalityVerdictIssuedV2,
    originality_verdict_event,
)
from fmc_common.events.vocabulary import Verdict
from fmc_common.manifests import manifest_digest
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.originality import bound, repository
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint, TensorFingerprint, fingerprint_model
from fmc_scoring.originality.models import CheckStatus, DonorModel, DonorTensor, OriginalityCheck
from fmc_scoring.originality.registry import RegisteredSubmission, RegistrySubmissions
from fmc_scoring.originality.report import Report
from fmc_scoring.originality.safetensors_io import DEFAULT_LIMITS, ReaderLimits, SafetensorsError
from fmc_scoring.planning.models import EvaluatedSubmission
from fmc_scoring.settings import ScoringSettings


class DonorAlreadyRegistered(Conflict):
    code = "donor-already-registered"
    title = "This donor model is already in the reference library at this revision"


class DonorRetired(Conflict):
    code = "donor-retired"
    title = "This donor model is already retired from the reference library"


class DonorNotFound(NotFound):
    code = "donor-not-found"
    title = "No such donor model"


class CheckNotFound(NotFound):
    code = "originality-check-not-found"
    title = "No such originality check"


class WeightsNotFound(NotFound):
    code = "weights-not-found"
    title = "No weights at this path"


class WeightsPathRefused(InvalidInput):
    code = "weights-path-refused"
    title = "The weights path must stay inside the weights directory"


class WeightsUnreadable(InvalidInput):
    code = "weights-unreadable"
    title = "The weights are not a readable safetensors model"


class ArtefactStoreUnavailable(Unavailable):
    code = "artefact-store-unavailable"
    title = "The weights could not be read from the artefact store; try again"


class ReferenceLibraryEmpty(Conflict):
    code = "reference-library-empty"
    title = "No donor model is registered: a check would have nothing to compare with"


def resolve_weights(store: ArtefactStore, relative: str) -> Path | ArtefactPath:
    """The weights path inside the store; anything escaping it (``..``, absolute, links) is refused."""
    base = store.local_path()
    target: Path | ArtefactPath
    if base is not None:
        local = (base / relative).resolve()
        if not local.is_relative_to(base):
            raise WeightsPathRefused(f"{relative!r} points outside the weights directory")
        target = local
    else:
        try:
            target = store.path(relative)
        except ArtefactKeyRefused as exc:
            raise WeightsPathRefused(f"{relative!r} points outside the weights directory") from exc
    if not target.exists():
        raise WeightsNotFound(f"nothing at {relative!r} in the weights directory", weights_path=relative)
    return target


def reader_limits(settings: ScoringSettings) -> ReaderLimits:
    """The caps of the reader from the scoring settings (the rest of ``ReaderLimits`` keeps its defaults)."""
    return replace(
        DEFAULT_LIMITS,
        max_header_bytes=settings.originality_max_header_bytes,
        max_tensors=settings.originality_max_tensors,
        max_total_bytes=settings.originality_max_total_bytes,
    )


def _reader_path(path: Path | ArtefactPath) -> Path:
    """The reader is typed for ``pathlib.Path``; ``ArtefactPath`` offers the part of it the reader uses
    (see ``fmc_common.artefacts``) and reads through bounded ranged requests."""
    return cast(Path, path)


async def register_donor(
    session: AsyncSession,
    clock: Clock,
    store: ArtefactStore,
    *,
    name: str,
    revision: str,
    weights_path: str,
    actor: str,
) -> DonorModel:
    """Fingerprint a donor's weights into the reference library (the weights themselves are not kept)."""
    if await repository.donor_by_name(session, name, revision) is not None:
        raise DonorAlreadyRegistered(f"{name}@{revision} is already registered", name=name, revision=revision)
    path = await asyncio.to_thread(_unavailable_if_failing, resolve_weights, store, weights_path)
    try:
        fingerprint = await asyncio.to_thread(fingerprint_model, _reader_path(path), name, revision)
    except SafetensorsError as exc:
        raise WeightsUnreadable(str(exc)) from exc
    except ArtefactMissing as exc:
        raise WeightsUnreadable(f"a file of the model is missing: {exc}") from exc
    except ArtefactError as exc:
        raise ArtefactStoreUnavailable(str(exc)) from exc
    donor = DonorModel(
        id=uuid.uuid4(),
        name=name,
        revision=revision,
        source=weights_path,
        tensor_count=len(fingerprint.tensors),
        parameter_count=fingerprint.parameter_count,
        spaces=fingerprint.plans_json(),
        config_sha256=fingerprint.config_sha256,
        tokenizer_sha256=fingerprint.tokenizer_sha256,
        registered_by=actor,
        registered_at=clock.now(),
    )
    repository.add(session, donor)
    await session.flush()
    for tensor in fingerprint.tensors:
        repository.add(session, _tensor_row(donor.id, tensor))
    await session.flush()
    return donor


def _tensor_row(donor_id: uuid.UUID, tensor: TensorFingerprint) -> DonorTensor:
    return DonorTensor(
        donor_id=donor_id,
        name=tensor.name,
        key=tensor.key,
        module=tensor.module,
        dtype=tensor.dtype,
        shape=list(tensor.shape),
        sha256=tensor.sha256,
        canonical=list(tensor.canonical),
        hidden_axis=tensor.hidden_axis,
        statistics=tensor.blob(),
    )


async def get_donor(session: AsyncSession, donor_id: uuid.UUID, lock: bool = False) -> DonorModel:
    donor = await repository.get_donor(session, donor_id, lock)
    if donor is None:
        raise DonorNotFound(f"no donor with id {donor_id}")
    return donor


async def retire_donor(ctx: ScoringCtx, donor_id: uuid.UUID, reason: str) -> DonorModel:
    """Leave a donor out of every later check (audited, with the reason); checks that compared with it
    keep their reports. Correcting their verdicts is a re-check of each team concerned."""
    donor = await get_donor(ctx.session, donor_id, lock=True)
    if donor.retired_at is not None:
        raise DonorRetired(
            f"{donor.name}@{donor.revision} was retired on {donor.retired_at.isoformat()}",
            retired_at=donor.retired_at.isoformat(),
        )
    donor.retired_at = ctx.clock.now()
    donor.retired_by = ctx.actor.subject
    donor.retirement_reason = reason
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="originality.donor-retired",
        entity_type="originality-donor",
        entity_id=donor.id,
        reason=reason,
        details={"name": donor.name, "revision": donor.revision},
    )
    return donor


async def load_library(session: AsyncSession) -> list[ModelFingerprint]:
    """Every donor's fingerprint (retired donors left out), as the check needs it."""
    library = []
    for donor in await repository.active_donors(session):
        tensors = [
            TensorFingerprint.from_blob(
                {
                    "name": row.name,
                    "key": row.key,
                    "module": row.module,
                    "dtype": row.dtype,
                    "shape": row.shape,
                    "sha256": row.sha256,
                    "canonical": row.canonical,
                    "hidden_axis": row.hidden_axis,
                },
                row.statistics,
            )
            for row in await repository.donor_tensors(session, donor.id)
        ]
        plans = ModelFingerprint.plans_from_json(donor.spaces)
        library.append(
            ModelFingerprint(
                donor.name,
                donor.revision,
                tensors,
                plans,
                config_sha256=donor.config_sha256,
                tokenizer_sha256=donor.tokenizer_sha256,
            )
        )
    return library


class FrozenSubmissionNotFound(NotFound):
    code = "frozen-submission-not-found"
    title = "This submission is not one frozen for the stage's evaluation"


class RecheckReasonRequired(InvalidInput):
    code = "recheck-reason-required"
    title = "The team's weights were already checked in this stage: a re-check needs a reason"


class ManifestDigestMismatch(Conflict):
    code = "manifest-digest-mismatch"
    title = "The registry's manifest is not the one frozen when the evaluation started"


class WeightsMismatch(Conflict):
    code = "weights-mismatch"
    title = "The delivered weights do not match the submission's manifest"


async def run_check(
    ctx: ScoringCtx,
    registry: RegistrySubmissions,
    store: ArtefactStore,
    *,
    stage_id: uuid.UUID,
    submission_id: uuid.UUID,
    reason: str | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
) -> OriginalityCheck:
    """Check a frozen submission's delivered weights against the whole reference library.

    The team is the submission's; the files are read from the location the registry holds for it, and
    only once they match the manifest frozen for the evaluation (else ``weights-mismatch``, and nothing
    is recorded). A second check of the team in the stage is a re-check: it needs a reason, is audited,
    and, being the latest, is the one results use.
    """
    frozen = await repository.frozen_submission(ctx.session, stage_id, submission_id)
    if frozen is None:
        raise FrozenSubmissionNotFound(
            f"submission {submission_id} was not frozen for the evaluation of stage {stage_id}",
            stage_id=str(stage_id),
            submission_id=str(submission_id),
        )
    previous = await repository.latest_check(ctx.session, stage_id, frozen.team_id)
    if previous is not None and not reason:
        raise RecheckReasonRequired(
            f"check {previous.id} already decided this team's originality in the stage; "
            "say why it is checked again",
            previous_check_id=str(previous.id),
        )
    library = await load_library(ctx.session)
    if not library:
        raise ReferenceLibraryEmpty("register at least one donor model before running checks")
    registered = await registry.submission(submission_id)
    manifest = _bound_manifest(frozen, registered)
    try:
        delivered = bound.submission_store(store, registered.weights_location)
    except bound.LocationRefused as exc:
        raise WeightsPathRefused(str(exc)) from exc
    try:
        report = await asyncio.to_thread(_verified_check, delivered, manifest, library, limits)
    except (bound.NoSafetensors, SafetensorsError) as exc:
        raise WeightsUnreadable(str(exc)) from exc
    except ArtefactError as exc:
        raise ArtefactStoreUnavailable(str(exc)) from exc
    if isinstance(report, list):
        raise WeightsMismatch(
            f"{len(report)} file(s) at {registered.weights_location} differ from the manifest "
            f"({frozen.manifest_digest}); nothing was checked",
            weights_location=registered.weights_location,
            manifest_digest=frozen.manifest_digest,
            mismatch_count=len(report),
            mismatches=[m.to_json() for m in report[: bound.SHOWN]],
        )
    now = ctx.clock.now()
    if previous is not None and now <= previous.created_at:
        now = previous.created_at + timedelta(microseconds=1)  # the latest check is the one that counts
    check = OriginalityCheck(
        id=uuid.uuid4(),
        stage_id=stage_id,
        team_id=frozen.team_id,
        submission_id=submission_id,
        weights_path=registered.weights_location,
        manifest_digest=frozen.manifest_digest,
        recheck_of=previous.id if previous is not None else None,
        reason=reason,
        status=CheckStatus.COMPLETED,
        verdict=report.verdict,
        summary=report.summary[:2000],
        report=report.to_json(),
        requested_by=ctx.actor.subject,
        created_at=now,
    )
    repository.add(ctx.session, check)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="originality.rechecked" if previous is not None else "originality.checked",
        entity_type="originality-check",
        entity_id=check.id,
        reason=reason,
        details={
            "stage_id": str(stage_id),
            "team_id": str(frozen.team_id),
            "submission_id": str(submission_id),
            "manifest_digest": frozen.manifest_digest,
            "weights_location": registered.weights_location,
            "verdict": str(report.verdict),
            "recheck_of": str(previous.id) if previous is not None else None,
            "previous_verdict": str(previous.verdict) if previous is not None else None,
        },
    )
    await ctx.outbox.add(ctx.session, _verdict_event(check, report))
    return check


def _bound_manifest(frozen: EvaluatedSubmission, registered: RegisteredSubmission) -> dict[str, Any]:
    """The registry's manifest, if it is the submission frozen for the stage: same team, same stage, and
    a manifest whose digest (computed here, not taken from the answer) is the frozen one."""
    digest = manifest_digest(registered.manifest)
    found = (registered.team_id, registered.stage_id, digest)
    if found != (frozen.team_id, frozen.stage_id, frozen.manifest_digest):
        raise ManifestDigestMismatch(
            f"the registry's record of submission {frozen.submission_id} does not match what was frozen",
            frozen_manifest_digest=frozen.manifest_digest,
            registry_manifest_digest=digest,
        )
    return registered.manifest


def _verified_check(
    delivered: ArtefactStore,
    manifest: dict[str, Any],
    library: list[ModelFingerprint],
    limits: ReaderLimits = DEFAULT_LIMITS,
) -> Report | list[bound.Mismatch]:
    """In a worker thread: verify the files against the manifest, then (only then) check them, reading
    nothing outside the submission's folder (locally: no link, FIFO or device below it)."""
    mismatches = bound.verify(delivered, manifest)
    if mismatches:
        return mismatches
    local = delivered.local_path()
    root = _reader_path(local if local is not None else delivered.path())
    target = _reader_path(bound.target(delivered, manifest))
    return check_model(target, library, root=root, limits=limits)


def _unavailable_if_failing(
    resolve: Callable[[ArtefactStore, str], Path | ArtefactPath], store: ArtefactStore, relative: str
) -> Path | ArtefactPath:
    try:
        return resolve(store, relative)
    except ArtefactError as exc:
        raise ArtefactStoreUnavailable(str(exc)) from exc


def _verdict_event(
    check: OriginalityCheck, report: Report
) -> OriginalityVerdictIssued | OriginalityVerdictIssuedV2:
    reused = [f for f in report.modules if f.decision is Verdict.REUSED]
    return originality_verdict_event(
        check_id=check.id,
        stage_id=check.stage_id,
        team_id=check.team_id,
        submission_id=check.submission_id,
        verdict=report.verdict,
        reused_components=report.reused_components[:20],
        reused_modules=report.reused_modules[:500],
        donors=sorted({f"{f.donor}@{f.donor_revision}" for f in reused})[:50],
        issued_at=check.created_at,
    )


async def get_check(session: AsyncSession, check_id: uuid.UUID) -> OriginalityCheck:
    check = await repository.get_check(session, check_id)
    if check is None:
        raise CheckNotFound(f"no originality check with id {check_id}")
    return check
