"""S3-compatible object storage as an artefact store (``fmc_common.artefacts``), through botocore.

The S3 client sends its credentials to the configured endpoint only: proxies from the environment,
credential and config files, instance metadata and ``AWS_*`` variables are not consulted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, cast

from fmc_common.artefacts import (
    DEFAULT_BLOCK_BYTES,
    ArtefactError,
    ArtefactMissing,
    ArtefactStore,
    clean_key,
)

__all__ = ["S3ArtefactStore", "S3Config", "s3_client"]


def _join(prefix: str, key: str) -> str:
    return f"{prefix}/{key}" if prefix and key else prefix or key


@dataclass(frozen=True)
class S3Config:
    """How to reach one bucket. Credentials are given here, never looked up elsewhere."""

    endpoint_url: str
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str
    ca_bundle: str | None = None
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    max_attempts: int = 4
    addressing_style: Literal["path", "virtual", "auto"] = "path"


def s3_client(config: S3Config) -> Any:
    """A botocore S3 client that talks to ``config.endpoint_url`` only.

    It is built from an empty botocore session (no shared credential or config file, no ``AWS_*``
    variable, no instance metadata) with explicit credentials; ``proxies={}`` stops botocore from taking
    ``HTTP(S)_PROXY`` from the environment (the equivalent of ``trust_env=False``).
    """
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session(session_vars={})
    for variable in ("config_file", "credentials_file"):
        session.set_config_variable(variable, os.devnull)
    session.set_config_variable("metadata_service_num_attempts", 0)
    client_config = Config(
        region_name=config.region,
        signature_version="s3v4",
        s3={"addressing_style": config.addressing_style},
        proxies={},
        connect_timeout=config.connect_timeout_seconds,
        read_timeout=config.read_timeout_seconds,
        retries={"max_attempts": config.max_attempts, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.create_client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
        verify=config.ca_bundle if config.ca_bundle else True,
        config=client_config,
    )


class S3ArtefactStore(ArtefactStore):
    """Objects of one bucket below a key prefix. Folders are key prefixes (``a/b`` lists ``a/b/...``)."""

    def __init__(
        self,
        config: S3Config,
        prefix: str = "",
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        client: Any = None,
    ) -> None:
        self.config = config
        self.prefix = clean_key(prefix, allow_empty=True)
        self.block_bytes = block_bytes
        self._client = client if client is not None else s3_client(config)

    def _key(self, key: str) -> str:
        return _join(self.prefix, clean_key(key))

    def _missing(self, exc: Exception) -> bool:
        response = cast(dict[str, Any], getattr(exc, "response", {}) or {})
        code = str(response.get("Error", {}).get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in ("404", "NoSuchKey", "NotFound") or status == 404

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.config.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise ArtefactMissing(f"nothing at {self.describe(key)}") from exc
            raise ArtefactError(f"{self.describe(key)}: {exc}") from exc
        return int(head["ContentLength"])

    def open_range(self, key: str, offset: int, length: int) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if length <= 0:
            return b""
        try:
            answer = self._client.get_object(
                Bucket=self.config.bucket, Key=self._key(key), Range=f"bytes={offset}-{offset + length - 1}"
            )
            with answer["Body"] as body:
                return cast(bytes, body.read())
        except ClientError as exc:
            if self._missing(exc):
                raise ArtefactMissing(f"nothing at {self.describe(key)}") from exc
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "InvalidRange":
                return b""  # at or past the end
            raise ArtefactError(f"{self.describe(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ArtefactError(f"{self.describe(key)}: {exc}") from exc

    def list(self, prefix: str = "") -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        below = _join(self.prefix, clean_key(prefix, allow_empty=True))
        start = below + "/" if below else ""
        keys: list[str] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.config.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    key = str(item["Key"])
                    if not key.endswith("/"):  # "folder" marker objects
                        keys.append(key[len(self.prefix) + 1 :] if self.prefix else key)
        except (ClientError, BotoCoreError) as exc:
            raise ArtefactError(f"cannot list {self.describe(prefix)}: {exc}") from exc
        return sorted(keys)

    def child(self, prefix: str) -> S3ArtefactStore:
        return S3ArtefactStore(
            self.config, _join(self.prefix, clean_key(prefix)), self.block_bytes, self._client
        )

    def describe(self, key: str = "") -> str:
        return f"s3://{self.config.bucket}/{_join(self.prefix, key)}"
