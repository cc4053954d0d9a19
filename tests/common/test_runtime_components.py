"""What the composition root provides is what an endpoint receives, by type."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmc_common import db
from fmc_common.messaging.tables import platform_tables
from fmc_common.runtime import ServiceRuntime
from fmc_common.settings import AuthSettings, KafkaSettings, ServiceSettings, WithInfrastructure
from fmc_common.web.deps import component, settings_of


class Settings(ServiceSettings, WithInfrastructure):
    pass


def settings() -> Settings:
    return Settings(
        service_name="example",
        database_url="sqlite+aiosqlite:///:memory:",
        kafka=KafkaSettings(),
        auth=AuthSettings(jwks='{"keys": []}'),
    )


class Engine:
    pass


class FastEngine(Engine):
    pass


def runtime() -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings(), tables=platform_tables(db.new_metadata()), migrations_path=Path()
    )


class TestComponents:
    def test_a_provided_object_is_found_by_its_type_and_by_a_base_type(self) -> None:
        built = runtime()
        engine = FastEngine()
        built.provide(engine)
        assert component(FastEngine)(built) is engine
        assert component(Engine)(built) is engine

    def test_asking_for_what_was_never_provided_names_it(self) -> None:
        with pytest.raises(LookupError, match="Engine was not provided"):
            component(Engine)(runtime())

    def test_settings_of_gives_the_service_settings_and_refuses_another_type(self) -> None:
        built = runtime()
        assert isinstance(settings_of(Settings)(built), Settings)
        with pytest.raises(TypeError, match="not Engine"):
            settings_of(Engine)(built)
