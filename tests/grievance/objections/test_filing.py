"""Filing objections: only inside the window (exact to the second, in Asia/Seoul), idempotent on the key."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta

import pytest

from fmc_common.clock import SEOUL
from grievance.harness import NOTIFIED_AT, Grievance

PROBLEM = "application/problem+json"
LAST_SECOND = datetime(2026, 12, 11, 23, 59, 59, tzinfo=SEOUL)
NEXT_MIDNIGHT = datetime(2026, 12, 12, 0, 0, 0, tzinfo=SEOUL)


class TestTheDeadline:
    async def test_filing_at_235959_on_the_tenth_day_is_accepted(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        grievance.clock.set(LAST_SECOND)
        response = await grievance.file(team)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "received"
        assert body["window"]["deadline"] == "2026-12-11T23:59:59+09:00"
        assert body["window"]["closes_at"] == "2026-12-12T00:00:00+09:00"
        assert body["window"]["time_zone"] == "Asia/Seoul"
        assert body["window"]["state"] == "open"

    async def test_filing_at_midnight_after_the_tenth_day_is_refused_with_the_deadline(
        self, grievance: Grievance
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        grievance.clock.set(NEXT_MIDNIGHT)
        response = await grievance.file(team)
        assert response.status_code == 409
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["code"] == "objection-window-closed"
        assert problem["deadline"] == "2026-12-11T23:59:59+09:00"
        assert problem["closes_at"] == "2026-12-12T00:00:00+09:00"
        assert problem["time_zone"] == "Asia/Seoul"
        assert "2026-12-11T23:59:59+09:00" in problem["detail"]

    async def test_the_per_stage_number_of_days_moves_the_deadline(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        [notification] = await grievance.notify([team], days=3)
        assert notification["window"]["deadline"] == "2026-12-04T23:59:59+09:00"
        grievance.clock.set(datetime(2026, 12, 5, 0, 0, tzinfo=SEOUL))
        assert (await grievance.file(team)).json()["code"] == "objection-window-closed"

    async def test_a_team_that_was_not_notified_is_refused_as_not_open(self, grievance: Grievance) -> None:
        response = await grievance.file(uuid.uuid4())
        assert response.status_code == 409
        assert response.json()["code"] == "objection-window-not-open"

    async def test_before_the_notification_time_the_window_is_not_open(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team], notified_at=NOTIFIED_AT + timedelta(hours=2))
        response = await grievance.file(team)
        assert response.status_code == 409
        problem = response.json()
        assert problem["code"] == "objection-window-not-open"
        assert problem["opens_at"] == "2026-12-01T12:00:00+09:00"
        assert problem["time_zone"] == "Asia/Seoul"


class TestIdempotency:
    async def test_a_retry_with_the_same_key_returns_the_same_objection(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        first = await grievance.file(team, key="filing-1")
        second = await grievance.file(team, key="filing-1")
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] == second.json()["id"]
        listed = await grievance.client.get("/v1/objections", headers=grievance.team(team))
        assert [o["id"] for o in listed.json()["items"]] == [first.json()["id"]]

    async def test_a_retry_after_the_deadline_still_returns_the_objection(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        first = await grievance.file(team, key="before-deadline")
        grievance.clock.set(NEXT_MIDNIGHT)
        again = await grievance.file(team, key="before-deadline")
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]

    async def test_the_same_key_with_another_body_is_refused(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        assert (await grievance.file(team, key="k")).status_code == 201
        other = await grievance.file(team, key="k", statement="Something else entirely.")
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency-key-reused"

    async def test_the_key_is_required(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        body = {
            "decision": {"kind": "stage-result", "id": str(grievance.stage_id)},
            "grounds": "other",
            "statement": "x",
        }
        response = await grievance.client.post("/v1/objections", json=body, headers=grievance.team(team))
        assert response.status_code == 422
        assert ["header", "Idempotency-Key"] in [e["location"] for e in response.json()["errors"]]


PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def attachment(name: str, media_type: str, content: bytes) -> dict[str, str]:
    return {"name": name, "media_type": media_type, "content_base64": base64.b64encode(content).decode()}


class TestAttachments:
    async def test_attachments_are_stored_with_name_size_and_sha256(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        response = await grievance.file(
            team,
            attachments=[
                attachment("evidence.pdf", "application/pdf", PDF),
                attachment("log.txt", "text/plain", b"ok"),
            ],
        )
        assert response.status_code == 201, response.text
        listed = response.json()["attachments"]
        assert listed[0] == {
            "name": "evidence.pdf",
            "media_type": "application/pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
        download = await grievance.client.get(
            f"/v1/objections/{response.json()['id']}/attachments/{listed[0]['sha256']}",
            headers=grievance.team(team),
        )
        assert download.status_code == 200
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"

    async def test_an_attachment_over_the_size_limit_is_413(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        too_big = b"a" * (2 * 1024 * 1024 + 1)
        response = await grievance.file(team, attachments=[attachment("big.txt", "text/plain", too_big)])
        assert response.status_code == 413
        assert response.json()["code"] == "attachment-too-large"

    @pytest.mark.parametrize(
        ("media_type", "content"),
        [("application/x-msdownload", b"MZ\x90\x00"), ("application/pdf", b"MZ\x90\x00 not a pdf")],
        ids=["type-not-allowed", "content-does-not-match"],
    )
    async def test_a_disallowed_or_mislabelled_type_is_415(
        self, grievance: Grievance, media_type: str, content: bytes
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        response = await grievance.file(team, attachments=[attachment("tool.exe", media_type, content)])
        assert response.status_code == 415
        assert response.json()["code"] == "attachment-type-not-allowed"
        listed = await grievance.client.get("/v1/objections", headers=grievance.team(team))
        assert listed.json()["items"] == []  # nothing half-filed


class TestAmendments:
    async def test_every_version_is_kept_and_the_latest_is_current(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        filed = (await grievance.file(team, attachments=[attachment("a.pdf", "application/pdf", PDF)])).json()
        sha = filed["attachments"][0]["sha256"]
        body = {
            "grounds": "scoring-error",
            "statement": "Second thoughts: the grading of suite K-MMLU is wrong.",
            "attachments": [{"name": "a.pdf", "media_type": "application/pdf", "sha256": sha}],
        }
        amended = await grievance.client.post(
            f"/v1/objections/{filed['id']}/amendments",
            json=body,
            headers=grievance.team(team) | {"Idempotency-Key": "a1"},
        )
        assert amended.status_code == 201, amended.text
        assert amended.json()["current_version"] == 2
        assert amended.json()["grounds"] == "scoring-error"
        assert amended.json()["attachments"][0]["sha256"] == sha
        versions = (
            await grievance.client.get(f"/v1/objections/{filed['id']}/versions", headers=grievance.team(team))
        ).json()
        assert [v["version"] for v in versions["items"]] == [1, 2]
        assert versions["items"][0]["statement"] == filed["statement"]
        assert versions["items"][0]["grounds"] == "process-defect"

    async def test_an_amendment_after_the_deadline_is_refused_with_the_deadline(
        self, grievance: Grievance
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        filed = (await grievance.file(team)).json()
        grievance.clock.set(NEXT_MIDNIGHT)
        response = await grievance.amend(team, filed["id"], "Too late.")
        assert response.status_code == 409
        assert response.json()["code"] == "objection-window-closed"
        assert response.json()["deadline"] == "2026-12-11T23:59:59+09:00"

    async def test_an_amendment_retried_with_its_key_adds_one_version(self, grievance: Grievance) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        filed = (await grievance.file(team)).json()
        for _ in range(2):
            response = await grievance.amend(team, filed["id"], "Clarified statement.", key="amend-1")
            assert response.status_code == 201
        assert response.json()["current_version"] == 2
