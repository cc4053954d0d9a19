"""StrEnumColumn: a closed set of states stored as text, read back as the enum, on both backends."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import Column, Integer, String, Table, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from fmc_common import db
from support.databases import DatabaseFactory


class Light(StrEnum):
    RED = "red"
    GREEN = "green"


metadata = db.new_metadata()
lights = Table(
    "lights",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("state", db.StrEnumColumn(Light, 16), nullable=True),
)


async def _engine(database_factory: DatabaseFactory) -> AsyncEngine:
    engine = db.create_engine(await database_factory.create("enums"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine


class TestStrEnumColumn:
    async def test_a_member_is_stored_as_its_value_and_read_back_as_the_member(
        self, database_factory: DatabaseFactory
    ) -> None:
        engine = await _engine(database_factory)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    insert(lights), [{"id": 1, "state": Light.GREEN}, {"id": 2, "state": None}]
                )
                raw = (await connection.execute(text("SELECT state FROM lights WHERE id = 1"))).scalar_one()
                state = (
                    await connection.execute(select(lights.c.state).where(lights.c.id == 1))
                ).scalar_one()
                empty = (
                    await connection.execute(select(lights.c.state).where(lights.c.id == 2))
                ).scalar_one()
            assert raw == "green"
            assert state is Light.GREEN
            assert empty is None
        finally:
            await engine.dispose()

    async def test_a_value_outside_the_enum_is_refused_on_write(
        self, database_factory: DatabaseFactory
    ) -> None:
        engine = await _engine(database_factory)
        try:
            with pytest.raises(StatementError, match="amber"):
                async with engine.begin() as connection:
                    await connection.execute(insert(lights), [{"id": 3, "state": "amber"}])
        finally:
            await engine.dispose()

    async def test_a_stored_value_outside_the_enum_fails_loudly_on_read(
        self, database_factory: DatabaseFactory
    ) -> None:
        engine = await _engine(database_factory)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO lights (id, state) VALUES (4, 'amber')"))
            with pytest.raises(ValueError, match="amber"):
                async with engine.connect() as connection:
                    (await connection.execute(select(lights.c.state).where(lights.c.id == 4))).scalar_one()
        finally:
            await engine.dispose()

    def test_the_column_keeps_the_declared_length(self) -> None:
        column_type = lights.c.state.type
        assert isinstance(column_type, db.StrEnumColumn)
        assert isinstance(column_type.impl_instance, String)
        assert column_type.impl_instance.length == 16
