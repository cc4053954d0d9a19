from __future__ import annotations

from pydantic import BaseModel


class TritonModel(BaseModel):
    name: str
    version: str
    state: str


class TritonStatus(BaseModel):
    url: str
    live: bool
    ready: bool
    server_version: str
    extensions: list[str]
    models: list[TritonModel]
