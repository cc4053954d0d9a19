"""Scoring with ``artefact_store=s3``: donor weights, a submission's delivered weights and suite files
read from a real S3-compatible server (moto's server mode), as in production; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fmc_common.auth import Role
from fmc_common.s3 import S3ArtefactStore, S3Config
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_scoring.main import create_app
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.fingerprint import fingerprint_model
from fmc_scoring.originality.synthetic import Weights
from fmc_scoring.settings import ScoringSettings
from support.kafka import broker_settings
from support.originality import Service, copied_model, frozen_submission, originality_service, run_check
from support.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, S3Server, put, upload_tree
from support.services import bearer, serving


@dataclass
class S3Scoring:
    service: Service
    bucket: S3Config
    mirror: Path  # files are written here, then uploaded: the service never sees this folder

    def upload_submission(self, location: Path) -> None:
        upload_tree(self.bucket, location, "weights/" + location.relative_to(self.mirror).as_posix())


def s3_settings(server: S3Server, bucket: str, secrets: Path) -> dict[str, Any]:
    """The settings a deployment gives: endpoint, bucket, region, and the credentials as mounted files."""
    (secrets / "access-key-id").write_text(ACCESS_KEY_ID + "\n")
    (secrets / "secret-access-key").write_text(SECRET_ACCESS_KEY + "\n")
    return {
        "artefact_store": "s3",
        "s3_endpoint_url": server.endpoint_url,
        "s3_bucket": bucket,
        "s3_region": "eu-central-1",
        "s3_access_key_id_file": secrets / "access-key-id",
        "s3_secret_access_key_file": secrets / "secret-access-key",
        "s3_max_attempts": 1,
        # nothing local: a read that went to the file system would find nothing
        "originality_weights_root": secrets / "no-weights-here",
        "suites_directory": secrets / "no-suites-here",
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def s3_scoring(
    request: pytest.FixtureRequest,
    broker: str,
    s3: S3Server,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    donor_weights: Weights,
) -> AsyncIterator[S3Scoring]:
    bucket = s3.new_bucket()
    mirror = tmp_path_factory.mktemp("mirror")
    donor = mirror / "donors" / "qwen"
    donor.mkdir(parents=True)
    synthetic.write_model(donor / "model.safetensors", donor_weights)
    (donor / "config.json").write_text('{"architectures": ["Qwen2.5-VL-sim"]}')
    upload_tree(bucket, mirror, "weights")
    secrets = tmp_path_factory.mktemp("secrets")
    async with originality_service(
        str(request.param),
        broker,
        auth_settings,
        tmp_path_factory,
        mirror / "store",
        **s3_settings(s3, bucket.bucket, secrets),
    ) as running:
        yield S3Scoring(running, bucket, mirror / "store")


class TestWeightsFromS3:
    async def test_a_donor_fingerprinted_from_the_bucket_equals_its_local_fingerprint(
        self, s3: S3Server, tmp_path: Path, donor_weights: Weights
    ) -> None:
        local = tmp_path / "model.safetensors"
        synthetic.write_model(local, donor_weights)
        config = s3.new_bucket()
        upload_tree(config, tmp_path, "donors/qwen")
        remote = S3ArtefactStore(config, block_bytes=64 * 1024).path("donors/qwen/model.safetensors")
        from_s3 = fingerprint_model(remote, "qwen", "1")  # type: ignore[arg-type]  # the path-like view
        from_disk = fingerprint_model(local, "qwen", "1")
        assert [(t.name, t.sha256, t.canonical) for t in from_s3.tensors] == [
            (t.name, t.sha256, t.canonical) for t in from_disk.tensors
        ]
        assert from_s3.plans_json() == from_disk.plans_json()

    async def test_a_copied_encoder_delivered_to_the_bucket_is_found_reused(
        self, s3_scoring: S3Scoring, donor_weights: Weights, own_weights: Weights
    ) -> None:
        service = s3_scoring.service
        assert service.donor["tensor_count"] == len(synthetic.Architecture().layout())
        frozen = await frozen_submission(service, copied_model(donor_weights, own_weights))
        s3_scoring.upload_submission(frozen.location)
        response = await run_check(service, frozen)
        assert response.status_code == 201, response.text
        check = response.json()
        assert check["verdict"] == "reused"
        assert "vision encoder (from Qwen2.5-VL-sim@rev-a1b2c3)" in check["report"]["reused_components"]

    async def test_a_sharded_original_model_in_the_bucket_is_original(
        self, s3_scoring: S3Scoring, own_weights: Weights
    ) -> None:
        service = s3_scoring.service
        frozen = await frozen_submission(service, own_weights, shards=2)
        s3_scoring.upload_submission(frozen.location)
        response = await run_check(service, frozen)
        assert response.status_code == 201, response.text
        assert response.json()["verdict"] == "original"

    async def test_files_in_the_bucket_other_than_declared_are_a_mismatch(
        self, s3_scoring: S3Scoring, own_weights: Weights
    ) -> None:
        service = s3_scoring.service
        frozen = await frozen_submission(service, own_weights)
        s3_scoring.upload_submission(frozen.location)
        prefix = "weights/" + frozen.location.relative_to(s3_scoring.mirror).as_posix()
        put(s3_scoring.bucket, f"{prefix}/extra/adapter.safetensors", b"undeclared")
        response = await run_check(service, frozen)
        assert (response.status_code, response.json()["code"]) == (409, "weights-mismatch"), response.text
        assert response.json()["mismatches"] == [
            {
                "path": "extra/adapter.safetensors",
                "problem": "extra",
                "found": "a .safetensors file the manifest does not declare",
            }
        ]

    async def test_weights_never_uploaded_are_missing_not_read_from_disk(
        self, s3_scoring: S3Scoring, own_weights: Weights
    ) -> None:
        frozen = await frozen_submission(s3_scoring.service, own_weights)  # on disk only
        response = await run_check(s3_scoring.service, frozen)
        assert (response.status_code, response.json()["code"]) == (409, "weights-mismatch")
        assert {m["problem"] for m in response.json()["mismatches"]} == {"missing"}
        shutil.rmtree(frozen.location)

    async def test_an_unreachable_bucket_is_503_not_a_verdict(
        self, s3: S3Server, broker: str, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        settings = ScoringSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}",
            kafka=broker_settings(broker),
            auth=auth_settings,
            grpc_port=free_port(),
            **s3_settings(s3, f"absent-{uuid.uuid4().hex[:12]}", tmp_path),
        )
        app = create_app(settings)
        app.state.runtime.consumers = []
        async with serving(app) as client:
            body = {"name": "x", "revision": "1", "weights_path": "donors/qwen"}
            response = await client.post(
                "/v1/originality/donors", json=body, headers=bearer(auth_settings, Role.OPERATOR)
            )
        assert (response.status_code, response.json()["code"]) == (503, "artefact-store-unavailable")


class TestSuitesFromS3:
    async def test_json_lines_an_lm_eval_task_and_a_hf_dataset_are_imported_from_the_bucket(
        self, s3_scoring: S3Scoring
    ) -> None:
        service = s3_scoring.service
        tag = uuid.uuid4().hex[:6]
        bucket = s3_scoring.bucket
        put(
            bucket,
            f"suites/{tag}/arith.jsonl",
            json.dumps({"item_id": "1", "prompt": "1+2?", "answer": 3}).encode(),
        )
        put(
            bucket,
            f"suites/{tag}/task/test.jsonl",
            json.dumps({"id": "q1", "question": "2+2?", "options": ["3", "4"], "label": 1}).encode(),
        )
        task = (
            f"task: s3_arith_{tag}\ndataset_path: json\n"
            "dataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
            "test_split: test\noutput_type: multiple_choice\n"
            'doc_to_text: "Question: {{question}}"\ndoc_to_choice: options\ndoc_to_target: "{{label}}"\n'
        )
        put(bucket, f"suites/{tag}/task/task.yaml", task.encode())
        for shard in ("test-00000-of-00002", "test-00001-of-00002"):
            row = {"id": shard, "question": "3+4?", "answer": 7}
            put(bucket, f"suites/{tag}/hf/data/{shard}.jsonl", json.dumps(row).encode())
        imports = [
            {"format": "jsonl", "path": f"{tag}/arith.jsonl", "key": f"arith-{tag}", "kind": "numeric"},
            {"format": "lm-eval", "path": f"{tag}/task/task.yaml"},
            {
                "format": "hf-jsonl",
                "path": f"{tag}/hf",
                "key": f"hf-{tag}",
                "kind": "numeric",
                "split": "test",
            },
        ]
        counts = []
        for body in imports:
            response = await service.client.post(
                "/v1/suites/imports",
                json=body | {"version": "1", "language": "en"},
                headers=service.operator(),
            )
            assert response.status_code == 201, response.text
            counts.append((response.json()["source"], response.json()["item_count"]))
        assert counts == [("jsonl", 1), ("lm-eval", 1), ("hf-jsonl", 2)]

    @pytest.mark.parametrize(
        ("path", "status", "code"),
        [("../../etc/passwd", 422, "suite-path-refused"), ("absent.jsonl", 422, "suite-invalid")],
    )
    async def test_paths_outside_or_absent_are_refused(
        self, s3_scoring: S3Scoring, path: str, status: int, code: str
    ) -> None:
        body = {
            "format": "jsonl",
            "path": path,
            "key": "x",
            "version": "1",
            "language": "en",
            "kind": "numeric",
        }
        response = await s3_scoring.service.client.post(
            "/v1/suites/imports", json=body, headers=s3_scoring.service.operator()
        )
        assert (response.status_code, response.json()["code"]) == (status, code)
