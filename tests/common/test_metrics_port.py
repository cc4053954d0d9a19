"""``FMC_<SVC>_METRICS_PORT``: /metrics served on a port of its own, apart from the API (Kubernetes scrapes
it there, so the API port is not opened to monitoring)."""

from __future__ import annotations

from pathlib import Path

import httpx

from fmc_common.serve import start_metrics_server
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_registry.main import create_app
from fmc_registry.settings import RegistrySettings


def _settings(tmp_path: Path, auth: AuthSettings, metrics_port: int | None) -> RegistrySettings:
    return RegistrySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        metrics_port=metrics_port,
        auth=auth,
    )


def test_the_metrics_port_serves_the_services_own_registry(
    tmp_path: Path, auth_settings: AuthSettings
) -> None:
    port = free_port()
    settings = _settings(tmp_path, auth_settings, port)
    app = create_app(settings)
    app.state.runtime.metrics.http_requests.labels(route="/v1/teams", method="GET", status="200").inc()
    started = start_metrics_server(settings, app)
    assert started is not None
    server, thread = started
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5, trust_env=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.status_code == 200
    assert 'fmc_http_requests_total{method="GET",route="/v1/teams",status="200"} 1.0' in response.text


def test_without_a_metrics_port_nothing_else_listens(tmp_path: Path, auth_settings: AuthSettings) -> None:
    settings = _settings(tmp_path, auth_settings, None)
    assert start_metrics_server(settings, create_app(settings)) is None
