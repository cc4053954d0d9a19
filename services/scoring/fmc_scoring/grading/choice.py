"""Which choice a free-text response picked in a multiple-choice item.

In order, the first rule that finds exactly one choice decides:

1. an explicit statement, the last one in the response: ``Answer: B``, ``the answer is (B)``,
   ``정답: B``, ``정답은 ③``, ``답: 2``;
2. the response is a label alone (``B``, ``(B)``, ``B.``, ``③``) or starts with one followed by a
   delimiter (``B) Seoul``, ``B. 서울``, ``(2) 서울``);
3. the response, normalised, equals the text of exactly one choice;
4. the normalised response contains the text of exactly one choice (a response naming two is
   ambiguous and picks nothing).

Labels are letters (``A``, ``B``, ...) unless the suite gives others; numbers ``1``..``n`` and
circled numbers (``①``, folded to digits by NFKC) are accepted as well, as Korean exams number their
choices. Nothing found: ``None`` (graded incorrect, with the reason recorded).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from fmc_scoring.grading.normalise import normalise
from fmc_scoring.values import default_labels

# Upper-case letters only, except when the label stands alone: "the answer is a city" picks nothing.
_UPPER = r"\(?\s*([A-Z]|[1-9][0-9]?|[가나다라마바사아자차])\s*\)?"
_ANY = r"\(?\s*([A-Za-z]|[1-9][0-9]?|[가나다라마바사아자차])\s*\)?"
_EXPLICIT = re.compile(
    r"(?i:answer(?:\s+is)?|correct\s+(?:answer|option|choice)(?:\s+is)?|option|choice"
    r"|정답(?:은|는)?|답(?:은|는)?|선택지?(?:는|은)?)"
    r"\s*[:\uff1a]?\s*(?:is\s+)?" + _UPPER + r"(?![A-Za-z가-힣])"
)
_ALONE = re.compile(r"^\s*" + _ANY + r"\s*[.:)\uff1a]?\s*$")
_LEADING = re.compile(r"^\s*(?:\(\s*([A-Z]|[1-9][0-9]?)\s*\)|([A-Z]|[1-9][0-9]?)\s*[.:)\uff1a])\s+\S")


# "② 서울" reads as "(2) 서울": NFKC alone would fold the circled digit to a bare "2".
_CIRCLED = {0x2460 + n: f"({n + 1})" for n in range(20)}


def _index(label: str, labels: Sequence[str]) -> int | None:
    wanted = label.strip().casefold()
    for position, candidate in enumerate(labels):
        if candidate.casefold() == wanted:
            return position
    if wanted.isdigit() and 1 <= int(wanted) <= len(labels):
        return int(wanted) - 1
    return None


def _by_label(text: str, labels: Sequence[str]) -> int | None:
    explicit = [m.group(1) for m in _EXPLICIT.finditer(text)]
    for label in reversed(explicit):
        found = _index(label, labels)
        if found is not None:
            return found
    alone = _ALONE.match(text)
    if alone:
        return _index(alone.group(1), labels)
    leading = _LEADING.match(text)
    if leading:
        return _index(leading.group(1) or leading.group(2), labels)
    return None


def _by_text(text: str, choices: Sequence[str]) -> int | None:
    response = normalise(text)
    if not response:
        return None
    keys = [normalise(choice) for choice in choices]
    equal = [i for i, key in enumerate(keys) if key and key == response]
    if len(equal) == 1:
        return equal[0]
    contained = [i for i, key in enumerate(keys) if key and key in response]
    # A choice that is part of another choice ("서울" in "서울특별시") is not a second hit.
    contained = [i for i in contained if not any(i != j and keys[i] in keys[j] for j in contained)]
    return contained[0] if len(contained) == 1 else None


def extract_choice(response: str, choices: Sequence[str], labels: Sequence[str] | None = None) -> int | None:
    """The index of the choice the response picked, or None when it picked none (or several)."""
    labels = list(labels) if labels else default_labels(len(choices))
    text = unicodedata.normalize("NFKC", response.translate(_CIRCLED))
    found = _by_label(text, labels)
    return found if found is not None else _by_text(text, choices)
