"""Declarative base and platform tables (outbox, inbox, idempotency) of grievance's database."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from fmc_common.db import new_metadata
from fmc_common.messaging.tables import platform_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


PLATFORM = platform_tables(Base.metadata)
