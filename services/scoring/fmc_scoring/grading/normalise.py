"""Text normalisation for exact-match grading, Korean-aware.

Two answers match when they are equal after:

1. Unicode NFKC: composes Hangul syllables from conjoining jamo (NFC) and folds compatibility
   forms, so full-width Latin letters and digits, half-width katakana/Hangul and circled digits compare
   equal to their ordinary forms;
2. case folding;
3. removing punctuation and symbols (every Unicode ``P*`` category and quote-like symbols), which
   covers Korean and CJK punctuation (``。、「」『』·``) as well as ASCII;
4. collapsing whitespace (any Unicode space, including the ideographic space) and trimming; the
   comparison itself ignores spaces, since Korean spacing (띄어쓰기) varies between writers;
5. for the response only (never the key): also trying it without a copula or polite ending
   (``서울입니다`` → ``서울``, ``고양이요`` → ``고양이``), because models often answer in a
   sentence where the key is a bare noun. Every candidate form is tried, so the ambiguity of
   ``이`` (part of the noun, or of the ending) costs nothing.

Hangul syllables are letters (category ``Lo``) and are never stripped.
"""

from __future__ import annotations

import re
import unicodedata

_KOREAN_ENDINGS = ("입니다", "이에요", "이예요", "예요", "이다", "이요", "다", "요")
_SPACE = re.compile(r"\s+")
_SYMBOLS_KEPT = frozenset("+-%$#&*/<>=^~")


def _is_punctuation(char: str) -> bool:
    if char in _SYMBOLS_KEPT:
        return False
    category = unicodedata.category(char)
    if category.startswith("P"):
        return True
    # Modifier symbols (accents on their own) and quote-like "other symbols" carry no meaning here.
    return category in ("Sk",) or char in "`\u00b4\u00a8"


def strip_punctuation(text: str) -> str:
    return "".join(" " if _is_punctuation(char) else char for char in text)


def response_forms(normalised: str) -> set[str]:
    """The normalised response, and the same without each Korean ending it may carry."""
    forms = {normalised}
    for ending in _KOREAN_ENDINGS:
        if normalised.endswith(ending):
            stem = normalised[: -len(ending)].rstrip()
            if stem:
                forms.add(stem)
    return forms


def normalise(text: str) -> str:
    """The canonical form compared by exact match (steps 1 to 4 of the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", strip_punctuation(folded)).strip()


def exact_match(response: str, answers: list[str]) -> bool:
    """True when a form of the normalised response equals a normalised accepted answer."""
    target = normalise(response)
    if not target:
        return False
    keys = {_compact(normalise(answer)) for answer in answers}
    return not keys.isdisjoint({_compact(form) for form in response_forms(target)})


def _compact(text: str) -> str:
    return text.replace(" ", "")
