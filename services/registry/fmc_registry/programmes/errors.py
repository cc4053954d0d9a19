"""Errors about programmes and stages (a module of their own: teams and submissions raise them too)."""

from __future__ import annotations

from fmc_common.errors import Conflict, NotFound


class ProgrammeNameTaken(Conflict):
    code = "programme-name-taken"
    title = "A programme with this name exists"


class ProgrammeNotFound(NotFound):
    code = "programme-not-found"
    title = "No such programme"


class StageNotFound(NotFound):
    code = "stage-not-found"
    title = "No such stage"


class StageNumberTaken(Conflict):
    code = "stage-number-taken"
    title = "The programme already has a stage with this number"


class ReopeningIsScorings(Conflict):
    code = "stage-reopening-is-scorings"
    title = "A final stage is reopened through scoring, not by a status change"
