"""Numeric answers: the number a response gives, compared with a tolerance.

The response's answer is the number after an explicit marker (``answer: 42``, ``정답: 42``,
``#### 42`` as in GSM8K-style keys) if there is one, otherwise the last number in the text.
Numbers may use thousands separators (``1,234``), full-width digits (folded by NFKC), a sign, a
decimal point, a fraction (``3/4``) or a percent sign (``50%`` is 50; the key says what it means).
Korean unit words after a number (``42개``, ``3명``) are ignored; large-number words are not parsed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

_NUMBER = "[-+\u2212]?" r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?"
_ANY_NUMBER = re.compile(_NUMBER)
_MARKED = re.compile(r"(?:(?i:answer)|정답|답|####)\s*(?:(?i:is))?\s*[:\uff1a=은는]?\s*(" + _NUMBER + ")")


def parse_number(text: str) -> float | None:
    """``"1,234.5"`` → 1234.5, ``"3/4"`` → 0.75; None when it is not a number."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    cleaned = cleaned.replace(",", "").replace(" ", "")
    cleaned = cleaned.removesuffix("%")
    try:
        if "/" in cleaned:
            numerator, denominator = cleaned.split("/", 1)
            if float(denominator) == 0:
                return None
            return float(Fraction(numerator) / Fraction(denominator))
        value = float(cleaned)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def extract_number(response: str) -> float | None:
    text = unicodedata.normalize("NFKC", response).replace("\u2212", "-")
    marked = _MARKED.findall(text)
    if marked:
        return parse_number(marked[-1])
    numbers = _ANY_NUMBER.findall(text)
    return parse_number(numbers[-1]) if numbers else None


def numeric_match(response: str, answer: float, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    found = extract_number(response)
    return found is not None and math.isclose(found, answer, rel_tol=rel_tol, abs_tol=abs_tol)
