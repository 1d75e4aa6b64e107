"""Validation reports read in Vietnamese and serialise to JSON with the same verdicts."""

from __future__ import annotations

import json

from signing.cli import render_report
from signing.verify import MESSAGES, AttachmentReport, DocumentReport, Problem, SignatureReport


def _signature(problems: tuple[Problem, ...] = ()) -> SignatureReport:
    return SignatureReport("OfficerSignature", "signature", "Trần Văn Đức", "1A", "2026-01-15",
                           True, True, not problems, None, "NONE", problems)


def test_every_problem_has_a_vietnamese_message() -> None:
    assert set(MESSAGES) == set(Problem)


def test_good_report() -> None:
    report = DocumentReport((_signature(),), (AttachmentReport("a.jpg", 3, "ab", True),), (),
                            "PAdES-B-LT")
    assert report.ok
    text = render_report(report)
    assert text.startswith("Kết quả: HỢP LỆ") and "Trần Văn Đức" in text
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is True and data["signatures"][0]["ok"] is True


def test_bad_report_names_each_reason() -> None:
    report = DocumentReport((_signature((Problem.REVOKED,)),), (),
                            (Problem.ATTACHMENT_MISMATCH,), "PAdES-B-B")
    assert not report.ok
    assert report.all_problems() == (Problem.ATTACHMENT_MISMATCH, Problem.REVOKED)
    text = render_report(report)
    assert "KHÔNG HỢP LỆ" in text
    assert MESSAGES[Problem.REVOKED] in text and MESSAGES[Problem.ATTACHMENT_MISMATCH] in text
    assert report.to_json()["signatures"][0]["problems"] == ["revoked"]
