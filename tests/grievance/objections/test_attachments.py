"""Attachment checks (pure logic): size and type limits, content matching its declared type, plain names."""

from __future__ import annotations

import hashlib

import pytest

from fmc_common.errors import InvalidInput
from fmc_grievance.objections.attachments import (
    AttachmentLimits,
    AttachmentTooLarge,
    AttachmentTypeNotAllowed,
    TooManyAttachments,
    check,
    check_count,
)
from fmc_grievance.settings import DEFAULT_ATTACHMENT_TYPES

LIMITS = AttachmentLimits(max_bytes=1000, max_count=2, allowed_types=DEFAULT_ATTACHMENT_TYPES)


class TestCheck:
    @pytest.mark.parametrize(
        ("media_type", "content"),
        [
            ("application/pdf", b"%PDF-1.4 ..."),
            ("image/png", b"\x89PNG\r\n\x1a\n...."),
            ("image/jpeg", b"\xff\xd8\xff\xe0...."),
            ("text/plain", "이의신청 사유".encode()),
            ("text/csv", b"suite,accuracy\nk-mmlu,0.5\n"),
            ("application/json", b'{"run": "r-1"}'),
        ],
    )
    def test_allowed_content_passes_with_its_size_and_sha256(self, media_type: str, content: bytes) -> None:
        checked = check("evidence", media_type.upper(), content, LIMITS)
        assert (checked.media_type, checked.size) == (media_type, len(content))
        assert checked.sha256 == hashlib.sha256(content).hexdigest()

    def test_exactly_the_limit_passes_and_one_byte_more_is_too_large(self) -> None:
        assert check("a.txt", "text/plain", b"a" * 1000, LIMITS).size == 1000
        with pytest.raises(AttachmentTooLarge) as raised:
            check("a.txt", "text/plain", b"a" * 1001, LIMITS)
        assert raised.value.status == 413
        assert raised.value.extra["max_bytes"] == 1000

    @pytest.mark.parametrize(
        ("media_type", "content"),
        [
            ("application/zip", b"PK\x03\x04"),
            ("application/pdf", b"MZ\x90\x00"),
            ("image/png", b"%PDF-1.4"),
            ("text/plain", b"\xff\xfe\x00binary"),
            ("application/json", b"{not json"),
        ],
    )
    def test_a_type_not_allowed_or_not_matching_the_content_is_refused(
        self, media_type: str, content: bytes
    ) -> None:
        with pytest.raises(AttachmentTypeNotAllowed) as raised:
            check("file", media_type, content, LIMITS)
        assert raised.value.status == 415

    @pytest.mark.parametrize(
        "name", ["../etc/passwd", "a/b.pdf", "C:\\x.pdf", ".hidden", "", "tab\there", "x" * 201]
    )
    def test_names_must_be_plain_file_names(self, name: str) -> None:
        with pytest.raises(InvalidInput):
            check(name, "text/plain", b"x", LIMITS)

    def test_too_many_attachments_are_refused(self) -> None:
        check_count(2, LIMITS)
        with pytest.raises(TooManyAttachments):
            check_count(3, LIMITS)
