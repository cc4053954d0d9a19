"""Reports of checks that found nothing to weigh: the model could not be read, or had nothing to compare.

Neither is ever ``original``: no evidence is not evidence of originality. ``unreadable`` carries the
reader's refusal (the file and the rule, never the file's content); ``not-comparable`` says why
nothing could be compared (no tensors, or no finite value in any tensor's sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.report import Report


class _Donor(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def revision(self) -> str: ...


class _Tensor(Protocol):
    @property
    def numel(self) -> int: ...

    @property
    def nbytes(self) -> int: ...


def unreadable_report(message: str, rule: str, donors: Sequence[_Donor]) -> Report:
    """The report of a model the reader refused (``rule``: file, cap, dtype or unreadable)."""
    return Report(
        verdict=Verdict.UNREADABLE,
        summary=f"unreadable: {message}"[:2000],
        reused_components=[],
        reused_modules=[],
        review_modules=[],
        donors_compared=[f"{d.name}@{d.revision}" for d in donors],
        parameters=0,
        tensors=0,
        bytes_checked=0,
        modules=[],
        context={"refusal": {"rule": rule, "message": message[:2000]}},
        caveats=["the weights were not compared: the reader refused them (see the summary)"],
    )


def not_comparable_report(tensors: Sequence[_Tensor], donors: Sequence[_Donor], parameters: int) -> Report:
    """The report of a model with no tensor, no element, or no finite value in any sample."""
    why = (
        "the model has no tensors"
        if not tensors
        else "the model has no elements"
        if parameters == 0
        else "no tensor has a finite value in its sample (all NaN or infinite)"
    )
    return Report(
        verdict=Verdict.NOT_COMPARABLE,
        summary=f"not comparable: {why}; nothing could be compared with the {len(donors)} reference model(s)",
        reused_components=[],
        reused_modules=[],
        review_modules=[],
        donors_compared=[f"{d.name}@{d.revision}" for d in donors],
        parameters=parameters,
        tensors=len(tensors),
        bytes_checked=sum(t.nbytes for t in tensors),
        modules=[],
        context={"not_comparable": why},
        caveats=[why],
    )
