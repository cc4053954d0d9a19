"""Does an answer name the model that gave it, or its maker? (pure)

A vote on such a battle is kept but not counted: the voter may have been swayed by the name, not
the answer. The names looked for are the team's name, its lead organisation (and that
organisation's first word when it is distinctive, as "Naver" in "Naver Cloud"), and the served
model's name, compared after the exact-match normalisation (NFKC, case, punctuation, spaces).
"""

from __future__ import annotations

from collections.abc import Iterable

from fmc_scoring.grading.normalise import normalise

MIN_WORD = 4


def _compact(text: str) -> str:
    return normalise(text).replace(" ", "")


def identity_terms(team_name: str, organisation: str, model_name: str | None) -> set[str]:
    terms = {team_name, organisation}
    words = normalise(organisation).split()
    if words and len(words[0]) >= MIN_WORD:
        terms.add(words[0])
    if model_name:
        terms.add(model_name)
    return {t for t in (_compact(term) for term in terms) if len(t) >= 2}


def names_itself(answer: str, terms: Iterable[str]) -> bool:
    text = _compact(answer)
    return any(term in text for term in terms)
