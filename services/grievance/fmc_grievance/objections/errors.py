"""Errors of the objection workflow, with stable codes (the deadline travels in the problem body)."""

from __future__ import annotations

from fmc_common.errors import Conflict, InvalidInput, NotFound


class ObjectionWindowNotOpen(Conflict):
    code = "objection-window-not-open"
    title = "The objection window is not open yet"


class ObjectionWindowClosed(Conflict):
    code = "objection-window-closed"
    title = "The objection window has closed"


class ObjectionNotFound(NotFound):
    code = "objection-not-found"
    title = "No such objection"


class AttachmentNotFound(NotFound):
    code = "attachment-not-found"
    title = "No such attachment on this objection"


class IllegalObjectionTransition(Conflict):
    code = "illegal-objection-transition"
    title = "The objection cannot move to that state from where it is"


class ReEvaluationScopeRequired(InvalidInput):
    code = "re-evaluation-scope-required"
    title = "Accepting this objection needs the scope of the re-evaluation"
