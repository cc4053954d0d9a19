"""Attachment checks, as pure functions: size and type limits, and the content matching its type.

A declared media type is believed only if the bytes agree: a PDF starts with ``%PDF-``, a PNG and a
JPEG with their signatures, and text types must be UTF-8 (JSON must parse). This keeps an
executable from travelling as "a PDF" to the operator who opens it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass

from fmc_common.errors import AppError, InvalidInput

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_TEXT_TYPES = {"text/plain", "text/csv", "application/json"}
_FORBIDDEN_NAME_CHARACTERS = set('/\\:*?"<>|')


class AttachmentTooLarge(AppError):
    status = 413
    code = "attachment-too-large"
    title = "An attachment is larger than allowed"


class AttachmentTypeNotAllowed(AppError):
    status = 415
    code = "attachment-type-not-allowed"
    title = "An attachment's type is not allowed, or its content does not match its type"


class TooManyAttachments(InvalidInput):
    code = "too-many-attachments"
    title = "Too many attachments"


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    max_count: int
    allowed_types: Collection[str]


@dataclass(frozen=True)
class CheckedAttachment:
    name: str
    media_type: str
    size: int
    sha256: str
    content: bytes


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def check_count(count: int, limits: AttachmentLimits) -> None:
    if count > limits.max_count:
        raise TooManyAttachments(
            f"at most {limits.max_count} attachments per version", max_count=limits.max_count
        )


def check_name(name: str) -> str:
    """A plain file name: no directories, no control characters, not hidden."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 200 or cleaned in {".", ".."} or cleaned.startswith("."):
        raise InvalidInput("an attachment name must be 1 to 200 characters and not start with a dot")
    if not cleaned.isprintable() or _FORBIDDEN_NAME_CHARACTERS & set(cleaned):
        raise InvalidInput("an attachment name must be a plain file name without path or control characters")
    return cleaned


def check(name: str, media_type: str, content: bytes, limits: AttachmentLimits) -> CheckedAttachment:
    """The attachment if it is within the limits and its content matches its type; raises otherwise."""
    clean_name = check_name(name)
    kind = media_type.strip().lower()
    if kind not in limits.allowed_types:
        raise AttachmentTypeNotAllowed(
            f"{name!r}: media type {media_type!r} is not allowed", allowed=sorted(limits.allowed_types)
        )
    if len(content) > limits.max_bytes:
        raise AttachmentTooLarge(
            f"{name!r} has {len(content)} bytes; the limit is {limits.max_bytes}", max_bytes=limits.max_bytes
        )
    if not content_matches(kind, content):
        raise AttachmentTypeNotAllowed(
            f"{name!r}: the content is not {kind}", allowed=sorted(limits.allowed_types)
        )
    return CheckedAttachment(clean_name, kind, len(content), sha256_hex(content), content)


def content_matches(media_type: str, content: bytes) -> bool:
    signatures = _SIGNATURES.get(media_type)
    if signatures is not None:
        return content.startswith(signatures)
    if media_type in _TEXT_TYPES:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if "\x00" in text:
            return False
        if media_type == "application/json":
            try:
                json.loads(text)
            except ValueError:
                return False
        return True
    # An allowed type the service has no check for: the operator chose to accept it as it is.
    return True
