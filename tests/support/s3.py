"""A real S3-compatible server for tests: moto's server mode (``moto_server``) on a free loopback port.

The server speaks the S3 REST protocol over HTTP (signed requests, ranged GETs, paginated listings),
so the platform's S3 store is exercised exactly as against object storage; only the buckets live in
the server's memory. ``s3_server`` starts one process, waits until it answers, and stops it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fmc_common.s3 import S3ArtefactStore, S3Config, s3_client
from fmc_devrunner.ports import free_port

ACCESS_KEY_ID = "fmc-test-access-key"
SECRET_ACCESS_KEY = "fmc-test-secret-key"
REGION = "eu-central-1"


@dataclass
class S3Server:
    endpoint_url: str
    process: subprocess.Popen[bytes]

    def config(self, bucket: str, **overrides: Any) -> S3Config:
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "bucket": bucket,
            "region": REGION,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
            "max_attempts": 1,
        }
        values.update(overrides)
        return S3Config(**values)

    def new_bucket(self) -> S3Config:
        """A fresh, empty bucket (tests share the server, never a bucket)."""
        config = self.config(f"fmc-{uuid.uuid4().hex[:20]}")
        s3_client(config).create_bucket(
            Bucket=config.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return config

    def store(self, config: S3Config, prefix: str = "", block_bytes: int = 1 << 20) -> S3ArtefactStore:
        return S3ArtefactStore(config, prefix, block_bytes)


def upload_tree(config: S3Config, directory: Path, prefix: str = "") -> list[str]:
    """Every file below ``directory`` put at ``prefix/<relative path>``; returns the keys."""
    client = s3_client(config)
    keys = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = "/".join(part for part in (prefix.strip("/"), path.relative_to(directory).as_posix()) if part)
        with path.open("rb") as handle:
            client.put_object(Bucket=config.bucket, Key=key, Body=handle)
        keys.append(key)
    return keys


def put(config: S3Config, key: str, data: bytes) -> None:
    s3_client(config).put_object(Bucket=config.bucket, Key=key, Body=data)


def _moto_server() -> list[str]:
    found = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "moto.server"]


@contextmanager
def s3_server(timeout_seconds: float = 60.0) -> Iterator[S3Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [*_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {process.returncode} before answering")
            try:
                if httpx.get(f"{endpoint}/moto-api/", timeout=1.0, trust_env=False).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not answer on {endpoint} within {timeout_seconds} s")
            time.sleep(0.1)
        yield S3Server(endpoint, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
