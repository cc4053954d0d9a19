"""Which benchmark items an expert panel reads, per model (pure).

Evaluators score a model, not items, but they need to see how it answers. Each model shows the same
few items of the stage's benchmark suites (so evaluators compare like with like), chosen from the
stage and its decoding seed alone: every evaluator, and every re-read, sees the same sample without
anything being stored, because a stage's suites and their items are fixed once its evaluation starts
(the criteria are frozen then, and a suite version never changes its items).

The choice: within each suite, items in the order of a hash of (stage, seed, suite, item); the
suites in the order of a hash of (stage, seed, suite); then one item from each suite in turn until
``count`` are taken, so a sample spans the suites before it goes deeper into any one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Chosen:
    suite_id: uuid.UUID
    item_id: str


def _rank(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _ordered(stage_id: uuid.UUID, seed: int, suite: uuid.UUID, items: Sequence[str]) -> list[str]:
    return sorted(set(items), key=lambda item: _rank(stage_id, seed, suite, item))


def choose(
    stage_id: uuid.UUID, seed: int, suites: Mapping[uuid.UUID, Sequence[str]], count: int
) -> list[Chosen]:
    """``count`` items (fewer when the suites hold fewer), the same for every model of the stage."""
    if count <= 0:
        return []
    queues = {suite: _ordered(stage_id, seed, suite, items) for suite, items in suites.items()}
    order = sorted(queues, key=lambda suite: _rank(stage_id, seed, suite))
    chosen: list[Chosen] = []
    depth = 0
    while len(chosen) < count and any(depth < len(queues[s]) for s in order):
        for suite in order:
            if depth < len(queues[suite]) and len(chosen) < count:
                chosen.append(Chosen(suite, queues[suite][depth]))
        depth += 1
    return chosen


def capped(text: str, limit: int) -> tuple[str, bool]:
    """The text cut to ``limit`` characters, and whether it was cut (a model's answer can be long)."""
    return (text, False) if len(text) <= limit else (text[:limit], True)
