"""``fmc-web``: serve the pages (uvicorn)."""

from __future__ import annotations

import uvicorn

from fmc_common.logs import configure_logging
from fmc_web.main import create_app
from fmc_web.settings import WebSettings


def main() -> None:
    settings = WebSettings.model_validate({})  # FMC_WEB_* and FMC_AUTH_* from the environment
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
