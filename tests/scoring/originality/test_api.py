"""REST /v1/originality on the real service (SQLite and PostgreSQL, real broker): library, checks bound to
the frozen submission's weights (read from the real registry), re-checks, reports."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from fmc_common.auth import Role
from fmc_common.events.vocabulary import Verdict
from fmc_common.manifests import manifest_digest
from fmc_common.settings import AuthSettings
from fmc_scoring.audit.models import ScoringAuditEntry
from fmc_scoring.base import PLATFORM
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.models import DonorModel, DonorTensor
from fmc_scoring.originality.synthetic import Weights
from fmc_scoring.planning.models import EvaluatedSubmission
from fmc_scoring.results.decision import GateState
from fmc_scoring.results.originality_gate import LatestCheckVerdicts
from support.eventually import eventually
from support.originality import (
    Frozen,
    Service,
    copied_model,
    frozen_submission,
    originality_service,
    register_donor,
    run_check,
)
from support.services import bearer

from .hostile import CASES, MODEL, SECRET, secret_outside

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def service(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    donor_weights: Weights,
) -> AsyncIterator[Service]:
    """One scoring service per backend for the module, with the donor registered from local files.
    Starting them per test would dominate the suite's time; tests use their own programmes and teams."""
    root = tmp_path_factory.mktemp("weights")
    (root / "donors" / "qwen").mkdir(parents=True)
    synthetic.write_model(root / "donors" / "qwen" / "model.safetensors", donor_weights)
    async with originality_service(
        str(request.param),
        broker,
        auth_settings,
        tmp_path_factory,
        root / "store",
        originality_weights_root=root,
        submission_weights_root=root / "store",
    ) as running:
        yield running


class TestReferenceLibrary:
    async def test_the_registered_donor_is_listed_and_registering_it_again_is_a_conflict(
        self, service: Service
    ) -> None:
        donor = service.donor
        assert (donor["name"], donor["revision"], donor["source"]) == (
            "Qwen2.5-VL-sim",
            "rev-a1b2c3",
            "donors/qwen",
        )
        assert donor["tensor_count"] == len(synthetic.Architecture().layout())
        listed = await service.client.get("/v1/originality/donors", headers=service.operator())
        assert [d["id"] for d in listed.json()["items"]] == [donor["id"]]
        one = await service.client.get(f"/v1/originality/donors/{donor['id']}", headers=service.operator())
        assert one.json() == donor
        again = await register_donor(service)
        assert again.status_code == 409
        assert again.json()["code"] == "donor-already-registered"

    async def test_weights_must_be_readable_safetensors_inside_the_weights_directory(
        self, service: Service
    ) -> None:
        (service.root.parent / "teams").mkdir(exist_ok=True)
        (service.root.parent / "teams" / "junk.safetensors").write_bytes(b"not a model at all")
        cases = [
            ("../../etc", 422, "weights-path-refused"),
            ("/etc/passwd", 422, "weights-path-refused"),
            ("absent", 404, "weights-not-found"),
            ("teams/junk.safetensors", 422, "weights-unreadable"),
        ]
        for path, status, code in cases:
            body = {"name": "x", "revision": "1", "weights_path": path}
            response = await service.client.post(
                "/v1/originality/donors", json=body, headers=service.operator()
            )
            assert (response.status_code, response.json()["code"]) == (status, code), path
            assert response.headers["content-type"].startswith(PROBLEM)
        extra = {"name": "x", "revision": "1", "weights_path": "donors/qwen", "keep_weights": True}
        response = await service.client.post("/v1/originality/donors", json=extra, headers=service.operator())
        assert response.status_code == 422  # unknown fields are refused

    async def test_only_operators_manage_the_library_and_run_checks(
        self, service: Service, own_weights: Weights
    ) -> None:
        team_id = uuid.uuid4()
        team = service.team(team_id)
        body = {"name": "x", "revision": "1", "weights_path": "donors/qwen"}
        assert (
            await service.client.post("/v1/originality/donors", json=body, headers=team)
        ).status_code == 403
        assert (await service.client.get("/v1/originality/donors", headers=team)).status_code == 403
        assert (await service.client.get("/v1/originality/donors")).status_code == 401
        frozen = await frozen_submission(service, own_weights)
        for headers in (service.team(frozen.team_id), bearer(service.auth, Role.SERVICE)):
            refused = await run_check(service, frozen, headers=headers)
            assert refused.status_code == 403
        unknown = await service.client.get(
            f"/v1/originality/checks/{uuid.uuid4()}", headers=service.operator()
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "originality-check-not-found")


class TestChecks:
    async def test_a_copied_vision_encoder_is_reused_announced_and_readable_by_its_team_only(
        self, service: Service, donor_weights: Weights, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, copied_model(donor_weights, own_weights))
        team_id = frozen.team_id
        response = await run_check(service, frozen)
        assert response.status_code == 201, response.text
        check = response.json()
        assert check["verdict"] == "reused"
        assert (check["team_id"], check["submission_id"]) == (str(team_id), str(frozen.submission_id))
        assert check["weights_path"] == f"submissions/{team_id}/{frozen.submission_id}/"
        assert check["manifest_digest"] == manifest_digest(frozen.manifest)
        assert (check["recheck_of"], check["reason"]) == (None, None)
        assert "vision encoder (from Qwen2.5-VL-sim@rev-a1b2c3)" in check["report"]["reused_components"]
        modules = {m["module"]: m for m in check["report"]["modules"]}
        assert modules["vision.layers.0.attention"]["decision"] == "reused"
        assert modules["vision.layers.0.attention"]["baseline_sd"] is not None
        event = await sent_event(service.app, check["id"])
        assert event["type"] == "fmc.scoring.originality-verdict-issued.v1"
        data = event["data"]
        assert isinstance(data, dict)
        assert (data["verdict"], data["team_id"]) == ("reused", str(team_id))
        assert data["donors"] == ["Qwen2.5-VL-sim@rev-a1b2c3"]
        assert not any(word in json.dumps(data) for word in ("score", "rank", "pearson", "cka"))
        # The team reads its own report; another team and anonymous callers cannot.
        url = f"/v1/originality/checks/{check['id']}"
        own = await service.client.get(url, headers=service.team(team_id))
        assert own.status_code == 200
        assert own.json()["report"]["verdict"] == "reused"
        assert (await service.client.get(url, headers=service.team(uuid.uuid4()))).status_code == 403
        assert (await service.client.get(url)).status_code == 401
        listed = await service.client.get("/v1/originality/checks", headers=service.team(team_id))
        assert [c["id"] for c in listed.json()["items"]] == [check["id"]]
        assert "report" not in listed.json()["items"][0]
        others = {"team_id": str(uuid.uuid4())}
        refused = await service.client.get(
            "/v1/originality/checks", params=others, headers=service.team(team_id)
        )
        assert refused.status_code == 403

    async def test_an_original_model_is_original_and_a_retried_check_returns_the_first_result(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        headers = {"Idempotency-Key": f"check-{uuid.uuid4()}"}
        first = await run_check(service, frozen, headers=headers)
        second = await run_check(service, frozen, headers=headers)
        assert first.json()["verdict"] == "original"
        assert first.json()["report"]["reused_modules"] == []
        assert second.json()["id"] == first.json()["id"]
        mine = {"team_id": str(frozen.team_id)}
        listed = await service.client.get("/v1/originality/checks", params=mine, headers=service.operator())
        assert len(listed.json()["items"]) == 1

    async def test_a_sharded_checkpoint_is_checked_through_its_index(
        self, service: Service, donor_weights: Weights, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, copied_model(donor_weights, own_weights), shards=3)
        assert frozen.manifest["index"]["path"] == "model.safetensors.index.json"
        response = await run_check(service, frozen)
        assert response.status_code == 201, response.text
        assert response.json()["verdict"] == "reused"
        assert response.json()["report"]["tensors"] == len(synthetic.Architecture().layout())


class TestHostileFiles:
    """Each hostile file of ``hostile.CASES`` delivered as a submission: the check is recorded with the
    verdict ``unreadable`` or ``not-comparable`` and the rule in its report (the results gate stays
    pending), or (a FIFO, a link swapped in after hashing) a 409 before anything is read; never a 500,
    never ``original``, never the content of a file in an answer."""

    @pytest.mark.parametrize("name", sorted(CASES))
    async def test_a_hostile_submission_is_never_original_nor_a_server_error(
        self, service: Service, own_weights: Weights, name: str
    ) -> None:
        case = CASES[name]
        if case.api_hashable:
            frozen = await frozen_submission(service, own_weights, write=case.write)
        else:  # declared as the team's real file, then swapped for a FIFO or a link out of the folder
            frozen = await frozen_submission(service, own_weights)
            (frozen.location / MODEL).unlink()
            if name == "fifo":
                os.mkfifo(frozen.location / MODEL)
            else:
                (frozen.location / MODEL).symlink_to(secret_outside(frozen.location))
        response = await run_check(service, frozen)
        assert SECRET not in response.text
        listed = await service.client.get(
            "/v1/originality/checks", params={"team_id": str(frozen.team_id)}, headers=service.operator()
        )
        if not case.api_hashable:
            assert (response.status_code, response.json()["code"]) == (409, "weights-mismatch"), response.text
            assert response.headers["content-type"].startswith(PROBLEM)
            assert listed.json()["items"] == [], "a refused check records nothing"
            return
        assert response.status_code == 201, response.text
        check = response.json()
        assert check["verdict"] == case.verdict
        assert check["report"]["verdict"] == case.verdict
        assert case.rule in check["report"]["summary"]
        assert check["report"]["modules"] == []
        assert [item["id"] for item in listed.json()["items"]] == [check["id"]]
        stored = await service.client.get(f"/v1/originality/checks/{check['id']}", headers=service.operator())
        assert (stored.status_code, stored.json()["verdict"]) == (200, case.verdict)
        assert SECRET not in stored.text
        async with service.app.state.runtime.sessions() as session:
            gate = await LatestCheckVerdicts().verdicts(session, frozen.stage_id, [frozen.team_id])
        assert gate[frozen.team_id].check_id == uuid.UUID(check["id"])
        assert gate[frozen.team_id].verdict is Verdict(case.verdict)
        assert gate[frozen.team_id].state is GateState.PENDING


class TestBoundWeights:
    """The check reads the submission's own files, as its frozen manifest declares them, or nothing."""

    async def refused(self, service: Service, frozen: Frozen, status: int, code: str) -> dict[str, Any]:
        response = await run_check(service, frozen)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        listed = await service.client.get(
            "/v1/originality/checks", params={"team_id": str(frozen.team_id)}, headers=service.operator()
        )
        assert listed.json()["items"] == [], "a refused check must record nothing"
        problem: dict[str, Any] = response.json()
        return problem

    async def test_a_missing_file_is_a_weights_mismatch_and_no_verdict(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights, shards=2)
        (frozen.location / "model-00002-of-00002.safetensors").unlink()
        problem = await self.refused(service, frozen, 409, "weights-mismatch")
        assert problem["mismatches"] == [{"path": "model-00002-of-00002.safetensors", "problem": "missing"}]
        assert problem["mismatch_count"] == 1
        assert problem["weights_location"] == f"submissions/{frozen.team_id}/{frozen.submission_id}/"

    async def test_a_file_of_another_size_is_refused_before_any_hash(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        path = frozen.location / "model.safetensors"
        size = path.stat().st_size
        with path.open("ab") as handle:
            handle.write(b"\0" * 16)
        problem = await self.refused(service, frozen, 409, "weights-mismatch")
        assert problem["mismatches"] == [
            {"path": "model.safetensors", "problem": "size", "expected": size, "found": size + 16}
        ]

    async def test_a_file_of_the_same_size_with_other_bytes_fails_on_its_hash(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        path = frozen.location / "model.safetensors"
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
        problem = await self.refused(service, frozen, 409, "weights-mismatch")
        [mismatch] = problem["mismatches"]
        assert (mismatch["path"], mismatch["problem"]) == ("model.safetensors", "hash")
        assert mismatch["expected"] == frozen.manifest["files"][0]["sha256"]
        assert mismatch["found"] == hashlib.sha256(bytes(data)).hexdigest()

    async def test_an_extra_shard_the_manifest_does_not_declare_is_refused(
        self, service: Service, own_weights: Weights, donor_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        (frozen.location / "extra").mkdir()
        synthetic.write_model(frozen.location / "extra" / "vision.safetensors", donor_weights)
        problem = await self.refused(service, frozen, 409, "weights-mismatch")
        found = [(m["path"], m["problem"]) for m in problem["mismatches"]]
        assert found == [("extra/vision.safetensors", "extra")]

    async def test_a_link_out_of_the_submissions_folder_is_never_read(
        self, service: Service, donor_weights: Weights, own_weights: Weights
    ) -> None:
        """Team B links to team A's file: even with A's exact hash declared, B's check reads nothing."""
        other = await frozen_submission(service, copied_model(donor_weights, own_weights))
        frozen = await frozen_submission(service, copied_model(donor_weights, own_weights))
        target = frozen.location / "model.safetensors"
        target.unlink()
        target.symlink_to(other.location / "model.safetensors")
        problem = await self.refused(service, frozen, 409, "weights-mismatch")
        assert [(m["path"], m["problem"]) for m in problem["mismatches"]] == [
            ("model.safetensors", "outside")
        ]

    async def test_a_submission_folder_that_is_itself_a_link_is_refused(
        self, service: Service, own_weights: Weights
    ) -> None:
        other = await frozen_submission(service, own_weights)
        frozen = await frozen_submission(service, own_weights)
        shutil.rmtree(frozen.location)
        frozen.location.symlink_to(other.location, target_is_directory=True)
        await self.refused(service, frozen, 422, "weights-path-refused")

    async def test_a_check_names_a_submission_frozen_in_that_stage_and_nothing_else(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        elsewhere = await frozen_submission(service, own_weights)
        cases = [
            {"stage_id": str(frozen.stage_id), "submission_id": str(uuid.uuid4())},
            {"stage_id": str(elsewhere.stage_id), "submission_id": str(frozen.submission_id)},
        ]
        for body in cases:
            response = await service.client.post(
                "/v1/originality/checks", json=body, headers=service.operator()
            )
            assert (response.status_code, response.json()["code"]) == (404, "frozen-submission-not-found")
        # No free path and no team of the caller's choosing: such requests are malformed.
        base = {"stage_id": str(frozen.stage_id), "submission_id": str(frozen.submission_id)}
        for extra in (
            {"weights_path": f"submissions/{elsewhere.team_id}"},
            {"team_id": str(elsewhere.team_id)},
        ):
            response = await service.client.post(
                "/v1/originality/checks", json=base | extra, headers=service.operator()
            )
            assert response.status_code == 422, extra

    async def test_another_teams_files_at_a_teams_location_eliminate_nobody(
        self, service: Service, donor_weights: Weights, own_weights: Weights
    ) -> None:
        """The issue's wrong-team case: the reusing team's file put where an original team's weights
        belong is refused (it is not what that team declared), and the reusing team's own check names it."""
        original = await frozen_submission(service, own_weights)
        reusing = await frozen_submission(service, copied_model(donor_weights, own_weights))
        shutil.copyfile(reusing.location / "model.safetensors", original.location / "model.safetensors")
        problem = await self.refused(service, original, 409, "weights-mismatch")
        assert problem["mismatches"][0]["problem"] in ("size", "hash")
        check = await run_check(service, reusing)
        assert (check.json()["verdict"], check.json()["team_id"]) == ("reused", str(reusing.team_id))

    async def test_a_manifest_the_registry_no_longer_matches_is_refused(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        async with service.app.state.runtime.sessions() as session, session.begin():
            row = await session.get(EvaluatedSubmission, (frozen.stage_id, frozen.team_id))
            assert row is not None
            row.manifest_digest = "sha256:" + "0" * 64
        problem = await self.refused(service, frozen, 409, "manifest-digest-mismatch")
        assert problem["registry_manifest_digest"] == manifest_digest(frozen.manifest)


class TestRechecks:
    async def test_a_recheck_needs_a_reason_is_audited_and_the_latest_check_decides(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        first = await run_check(service, frozen)
        assert first.status_code == 201, first.text
        again = await run_check(service, frozen)
        assert (again.status_code, again.json()["code"]) == (422, "recheck-reason-required")
        assert again.json()["previous_check_id"] == first.json()["id"]
        reason = "objection 12 accepted: the first check ran before the corrected upload"
        second = await run_check(service, frozen, reason=reason)
        assert second.status_code == 201, second.text
        assert (second.json()["recheck_of"], second.json()["reason"]) == (first.json()["id"], reason)
        assert second.json()["created_at"] > first.json()["created_at"]
        async with service.app.state.runtime.sessions() as session:
            gate = await LatestCheckVerdicts().verdicts(session, frozen.stage_id, [frozen.team_id])
        assert gate[frozen.team_id].check_id == uuid.UUID(second.json()["id"])
        async with service.app.state.runtime.sessions() as session:
            entries = (
                await session.scalars(
                    select(ScoringAuditEntry).where(
                        ScoringAuditEntry.entity_id.in_([first.json()["id"], second.json()["id"]])
                    )
                )
            ).all()
        actions = {(e.action, e.reason) for e in entries}
        assert actions == {("originality.checked", None), ("originality.rechecked", reason)}

    async def test_a_verdict_resting_on_a_wrong_donor_is_corrected_by_retiring_it_and_rechecking(
        self, service: Service, own_weights: Weights
    ) -> None:
        """A team's own earlier release put in the library makes its model look reused: the operator
        retires that donor with a reason, re-checks the team, and the re-check decides."""
        release = service.root.parent / "donors" / "own-release"
        release.mkdir(parents=True)
        synthetic.write_model(release / "model.safetensors", own_weights)
        name = f"team-release-{uuid.uuid4().hex[:6]}"
        body = {"name": name, "revision": "v1", "weights_path": "donors/own-release"}
        wrong = await service.client.post("/v1/originality/donors", json=body, headers=service.operator())
        assert wrong.status_code == 201, wrong.text
        retirement = f"/v1/originality/donors/{wrong.json()['id']}/retirement"
        reason = "objection 7 accepted: this donor is the team's own earlier release (declared)"
        try:
            frozen = await frozen_submission(service, own_weights)
            first = await run_check(service, frozen)
            assert first.json()["verdict"] == "reused"
            team = {"reason": "retire it"}
            assert (
                await service.client.post(retirement, json=team, headers=service.team(frozen.team_id))
            ).status_code == 403
        finally:
            retired = await service.client.post(
                retirement, json={"reason": reason}, headers=service.operator()
            )
        assert retired.status_code == 200, retired.text
        assert (retired.json()["retirement_reason"], retired.json()["retired_by"]) == (reason, "tester")
        again = await service.client.post(retirement, json={"reason": reason}, headers=service.operator())
        assert (again.status_code, again.json()["code"]) == (409, "donor-retired")
        second = await run_check(service, frozen, reason=reason)
        assert second.status_code == 201, second.text
        assert second.json()["verdict"] == "original"
        assert f"{name}@v1" not in second.json()["report"]["donors_compared"]
        async with service.app.state.runtime.sessions() as session:
            gate = await LatestCheckVerdicts().verdicts(session, frozen.stage_id, [frozen.team_id])
            entry = await session.scalar(
                select(ScoringAuditEntry).where(ScoringAuditEntry.action == "originality.donor-retired")
            )
        assert gate[frozen.team_id].verdict == "original"
        assert entry is not None
        assert entry.reason == reason


async def sent_event(app: FastAPI, check_id: str, timeout: float = 20.0) -> dict[str, object]:
    """The verdict event from the outbox, once the relay has published it to the broker."""
    runtime = app.state.runtime
    outbox = PLATFORM.outbox

    async def published() -> dict[str, object] | None:
        async with runtime.sessions() as session:
            rows = (await session.execute(select(outbox.c.payload, outbox.c.sent_at))).all()
        for payload, sent_at in rows:
            event: dict[str, object] = json.loads(payload)
            if event.get("subject") == f"originality-checks/{check_id}" and sent_at is not None:
                return event
        return None

    return await eventually(
        published, timeout=timeout, interval=0.2, what=f"a published verdict event for check {check_id}"
    )


class TestEmptyLibrary:
    async def test_a_check_before_any_donor_is_registered_is_refused(
        self, service: Service, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(service, own_weights)
        async with service.app.state.runtime.sessions() as session, session.begin():
            await session.execute(delete(DonorTensor))
            await session.execute(delete(DonorModel))
        try:
            response = await run_check(service, frozen)
            assert (response.status_code, response.json()["code"]) == (409, "reference-library-empty")
        finally:
            registered = await register_donor(service)
            assert registered.status_code == 201, registered.text
            service.donor = registered.json()
