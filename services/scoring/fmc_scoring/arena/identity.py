"""Does a text name a contender: its team, its maker or its model? (pure)

A vote on a battle whose prompt or answer names a contender is kept but not counted: the voter
may have judged the name, not the answer. The terms looked for are the team's name, its lead
organisation (and that organisation's first word when it is distinctive, as "Naver" in "Naver
Cloud"), the served model's name, and the aliases operators keep for the team (Korean and Latin
spellings, spelled-out names, model names). Text and terms are compared after the exact-match
normalisation (NFKC, case folding, punctuation and hyphens to spaces), as whole words:

* a term starts at a word start: "KT" is not found in "market", nor "a.x" in "An axe";
* a term ends at a word end, or the rest of its Korean word is particles and copula endings
  ("업스테이지에서는", "KT의", "솔라입니다"), since Korean attaches them to the noun; any other
  continuation makes another word ("케이티엑스" is not "케이티");
* a change of script is a word boundary ("저는LG" names "LG");
* the words of a term may be written apart or together ("SK Telecom", "SKTelecom", "sk-telecom"),
  except beside a one-letter word, which keeps its separator: "A.X" and "a x" name the model
  "a.x", "ax" does not.

A term shorter than two letters is never looked for.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fmc_scoring.grading.normalise import normalise

MIN_WORD = 4
MIN_TERM = 2

# Particles and copula forms that follow a noun inside one Korean word; longest first.
_ENDINGS = (
    "은 는 이 가 을 를 의 에 에서 에게 께 께서 한테 와 과 랑 이랑 로 으로 도 만 뿐 까지 부터 보다 "
    "처럼 같이 마저 조차 이나 나 이며 며 이고 고 이라고 라고 이라는 라는 이란 란 입니다 습니다 니다 "
    "이에요 에요 예요 이야 야 이다 다 이죠 죠 이지 지 이었 였 이요 요 인 이신 인데 데 지만 라서 이라서 "
    "니까 이니까 므로 이므로 로서 으로서 로써 으로써 "
)
_PARTICLES = tuple(sorted(_ENDINGS.split(), key=len, reverse=True))


class TermKind(StrEnum):
    """What a term names; said of a discarded vote (never the term itself to the voter)."""

    TEAM = "team"
    ORGANISATION = "organisation"
    MODEL = "model"


@dataclass(frozen=True)
class Term:
    """A name looked for, normalised (its words separated by single spaces), and what it names."""

    text: str
    kind: TermKind


@dataclass(frozen=True)
class Alias:
    """An operator's alias for a team: another spelling of its name or maker, or a model name."""

    text: str
    kind: TermKind


def normal_form(text: str) -> str:
    """A name or text as compared: the exact-match normalisation, with hyphens (kept there, for
    numbers) as word separators."""
    return " ".join(normalise(text).replace("-", " ").split())


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"


def identity_terms(
    team_name: str, organisation: str, model_name: str | None, aliases: Iterable[Alias] = ()
) -> list[Term]:
    """The terms that name one contender, longest first (the most specific match is reported)."""
    named = [(team_name, TermKind.TEAM), (organisation, TermKind.ORGANISATION)]
    words = normal_form(organisation).split()
    if words and len(words[0]) >= MIN_WORD:
        named.append((words[0], TermKind.ORGANISATION))
    if model_name:
        named.append((model_name, TermKind.MODEL))
    named.extend((alias.text, alias.kind) for alias in aliases)
    terms: dict[str, Term] = {}
    for text, kind in named:
        normal = normal_form(text)
        if len(normal.replace(" ", "")) >= MIN_TERM:
            terms.setdefault(normal, Term(normal, kind))
    return sorted(terms.values(), key=lambda t: (-len(t.text), t.text))


def _pattern(term: str) -> re.Pattern[str]:
    words = term.split(" ")
    parts = [re.escape(words[0])]
    for before, after in itertools.pairwise(words):
        parts.append(" " if len(before) == 1 or len(after) == 1 else " ?")
        parts.append(re.escape(after))
    return re.compile("".join(parts))


def _starts_word(text: str, start: int) -> bool:
    if start == 0 or not text[start - 1].isalnum():
        return True
    return _is_hangul(text[start - 1]) != _is_hangul(text[start])


def _ends_word(text: str, end: int) -> bool:
    if end == len(text) or not text[end].isalnum():
        return True
    if _is_hangul(text[end]):
        rest = re.match(r"[\uac00-\ud7a3]*", text[end:])
        return _endings_only(rest.group() if rest else "")
    return _is_hangul(text[end - 1])


def _endings_only(rest: str) -> bool:
    """The rest of a Korean word is nothing but particles and copula endings (after a name)."""
    if not rest:
        return True
    return any(rest.startswith(p) and _endings_only(rest[len(p) :]) for p in _PARTICLES)


def _found(text: str, term: str) -> bool:
    pattern = _pattern(term)
    position = 0
    while (match := pattern.search(text, position)) is not None:
        if _starts_word(text, match.start()) and _ends_word(text, match.end()):
            return True
        position = match.start() + 1
    return False


def named_term(text: str, terms: Iterable[Term]) -> Term | None:
    """The first term (in the order given) that the text names as a whole word, if any."""
    normal = normal_form(text)
    return next((term for term in terms if _found(normal, term.text)), None)
