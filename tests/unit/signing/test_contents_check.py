"""Embedded files are checked against the embedded manifest and against the dossier."""

from __future__ import annotations

import hashlib
import json

from signing.forms import DOSSIER_JSON_NAME, MANIFEST_NAME
from signing.verify import ExpectedDossier, Problem, check_contents

DATA = {"code": "H26.12-260115-0001", "ten": "Nguyễn Thị Hoà"}
RAW = json.dumps(DATA, ensure_ascii=False).encode()
PHOTO = b"\xff\xd8photo\xff\xd9"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(photo: bytes = PHOTO, manifest_photo: bytes = PHOTO) -> dict[str, bytes]:
    manifest = {"schema": 1, "dossier_json_sha256": _sha(RAW),
                "attachments": [{"name": "a.jpg", "sha256": _sha(manifest_photo)}]}
    return {DOSSIER_JSON_NAME: RAW, MANIFEST_NAME: json.dumps(manifest).encode(), "a.jpg": photo}


def test_consistent_files_pass() -> None:
    problems, reports = check_contents(_files(), ExpectedDossier(DATA, {"a.jpg": _sha(PHOTO)}))
    assert problems == []
    assert all(r.matches for r in reports)


def test_file_differs_from_manifest() -> None:
    problems, reports = check_contents(_files(photo=b"other"), None)
    assert problems == [Problem.MANIFEST]
    assert [r.name for r in reports if not r.matches] == ["a.jpg"]


def test_missing_manifest() -> None:
    files = _files()
    del files[MANIFEST_NAME]
    assert check_contents(files, None) == ([Problem.MANIFEST], [])


def test_extra_undeclared_file() -> None:
    files = {**_files(), "extra.bin": b"x"}
    assert check_contents(files, None)[0] == [Problem.MANIFEST]


def test_dossier_claims_other_photo_and_data() -> None:
    expected = ExpectedDossier({**DATA, "ten": "Người Khác"}, {"a.jpg": _sha(b"other")})
    problems, _ = check_contents(_files(), expected)
    assert problems == [Problem.ATTACHMENT_MISMATCH, Problem.DOSSIER_MISMATCH]


def test_dossier_lists_a_photo_the_document_lacks() -> None:
    expected = ExpectedDossier(DATA, {"a.jpg": _sha(PHOTO), "b.jpg": _sha(b"b")})
    assert check_contents(_files(), expected)[0] == [Problem.ATTACHMENT_MISMATCH]
