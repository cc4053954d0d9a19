"""gRPC: FileObjection and GetObjection behave as REST does (same rules, same codes)."""

from __future__ import annotations

import uuid
from datetime import datetime

import grpc
import pytest

from fmc_common.auth import Role
from fmc_common.clock import SEOUL
from fmc_protos.grievance.v1 import grievance_pb2, grievance_pb2_grpc
from grievance.harness import Grievance
from support.services import bearer


def metadata(grievance: Grievance, role: Role, team: uuid.UUID | None = None) -> tuple[tuple[str, str], ...]:
    return (("authorization", bearer(grievance.auth, role, team)["Authorization"]),)


def filing(grievance: Grievance, key: str) -> grievance_pb2.FileObjectionRequest:
    return grievance_pb2.FileObjectionRequest(
        decision=grievance_pb2.DecisionRef(kind="stage-result", id=str(grievance.stage_id)),
        grounds="originality-judgement",
        statement="Our vision encoder was trained from our own initialisation.",
        attachments=[
            grievance_pb2.Attachment(name="training-log.txt", media_type="text/plain", content=b"step 1")
        ],
        idempotency_key=key,
    )


class TestGrpcObjections:
    async def test_a_team_files_and_reads_its_objection_and_another_team_may_not(
        self, grievance: Grievance
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        port = grievance.app.state.runtime.grpc_port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = grievance_pb2_grpc.GrievanceServiceStub(channel)
            filed = await stub.FileObjection(
                filing(grievance, "g-1"), metadata=metadata(grievance, Role.TEAM, team)
            )
            again = await stub.FileObjection(
                filing(grievance, "g-1"), metadata=metadata(grievance, Role.TEAM, team)
            )
            assert again.objection_id == filed.objection_id
            assert filed.window.deadline == "2026-12-11T23:59:59+09:00"
            assert filed.window.time_zone == "Asia/Seoul"
            assert filed.attachments[0].size == 6
            read = await stub.GetObjection(
                grievance_pb2.GetObjectionRequest(objection_id=filed.objection_id),
                metadata=metadata(grievance, Role.OPERATOR),
            )
            assert read.status == "received"
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.GetObjection(
                    grievance_pb2.GetObjectionRequest(objection_id=filed.objection_id),
                    metadata=metadata(grievance, Role.TEAM, uuid.uuid4()),
                )
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_after_the_deadline_the_filing_is_refused_with_the_deadline(
        self, grievance: Grievance
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        grievance.clock.set(datetime(2026, 12, 12, 0, 0, tzinfo=SEOUL))
        port = grievance.app.state.runtime.grpc_port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = grievance_pb2_grpc.GrievanceServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.FileObjection(
                    filing(grievance, "late"), metadata=metadata(grievance, Role.TEAM, team)
                )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert ("fmc-problem-code", "objection-window-closed") in tuple(
            refused.value.trailing_metadata() or ()
        )
        assert "2026-12-11T23:59:59+09:00 (Asia/Seoul)" in (refused.value.details() or "")

    @pytest.mark.parametrize("role", [None, Role.EVALUATOR, Role.SERVICE, Role.OPERATOR])
    async def test_only_a_team_files_and_the_public_reads_nothing(
        self, grievance: Grievance, role: Role | None
    ) -> None:
        team = uuid.uuid4()
        await grievance.notify([team])
        port = grievance.app.state.runtime.grpc_port
        calls = metadata(grievance, role) if role else ()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = grievance_pb2_grpc.GrievanceServiceStub(channel)
            filed = await stub.FileObjection(
                filing(grievance, "g-2"), metadata=metadata(grievance, Role.TEAM, team)
            )
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.FileObjection(filing(grievance, "g-3"), metadata=calls)
            expected = grpc.StatusCode.UNAUTHENTICATED if role is None else grpc.StatusCode.PERMISSION_DENIED
            assert refused.value.code() == expected
            if role == Role.OPERATOR:
                return  # operators read every objection (shown above)
            with pytest.raises(grpc.aio.AioRpcError) as unread:
                await stub.GetObjection(
                    grievance_pb2.GetObjectionRequest(objection_id=filed.objection_id), metadata=calls
                )
            assert unread.value.code() == expected
