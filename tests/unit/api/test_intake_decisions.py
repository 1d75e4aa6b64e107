"""The pure intake rules: codes, appointment dates, outcomes and events."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest

from api.intake import decisions as rules
from dossiers.calendar import default_calendar
from dossiers.catalogue import load_catalogue
from dossiers.errors import DossierError
from dossiers.models import Event
from signing.forms import CITIZEN_FIELD, OFFICER_FIELD
from signing.verify import MESSAGES, DocumentReport, Problem, SignatureReport

ICT = dt.timezone(dt.timedelta(hours=7))
PROCEDURE = "1.000419"


def _doc(**changes: object) -> dict[str, object]:
    version = load_catalogue().get(PROCEDURE).versions[0].version
    doc: dict[str, object] = {
        "_id": "dossier:1", "type": "dossier", "access": ["officer:o1"],
        "provisional_code": "TT-DEV01-000001", "agency_code": "000.00.01.H22",
        "procedure_code": PROCEDURE, "procedure_version": version,
        "received_at": "2026-11-27T23:30:00+07:00", "form": {}}
    doc.update(changes)
    return doc


def _submission(**changes: object) -> rules.Submission:
    found = rules.submission_of(_doc(**changes))
    assert isinstance(found, rules.Submission)
    return found


def test_first_code_of_the_day_is_0001_and_the_day_is_local() -> None:
    submission = _submission(received_at="2026-11-27T17:30:00+00:00")  # 00:30 on the 28th
    day = rules.code_day(submission)
    code, counter = rules.allocate(None, "000.00.01.H22", day, submission.id)
    assert str(code) == "000.00.01.H22-261128-0001"
    assert counter is not None and counter["_id"] == "intake-counter:000.00.01.H22:261128"
    assert counter["issued"] == {"dossier:1": 1}


def test_a_counted_dossier_keeps_its_number_and_writes_nothing() -> None:
    counter = {"_id": "c", "_rev": "3-x", "issued": {"a": 1, "dossier:1": 2, "b": 3}}
    code, updated = rules.allocate(counter, "000.00.01.H22", dt.date(2026, 11, 27), "dossier:1")
    assert code.sequence == 2 and updated is None


def test_the_next_number_follows_the_highest_and_keeps_the_rev() -> None:
    counter = {"_id": "c", "_rev": "3-x", "issued": {"a": 1, "b": 7}}
    code, updated = rules.allocate(counter, "000.00.01.H22", dt.date(2026, 11, 27), "new")
    assert code.sequence == 8
    assert updated is not None and updated["_rev"] == "3-x" and updated["issued"]["new"] == 8


def test_a_full_day_is_refused_in_vietnamese() -> None:
    counter = {"issued": {"x": 9999}}
    with pytest.raises(DossierError, match="đã dùng hết"):
        rules.allocate(counter, "000.00.01.H22", dt.date(2026, 11, 27), "new")


def test_appointment_uses_the_catalogue_time_limit_and_working_days() -> None:
    submission = _submission(received_at="2026-11-27T09:00:00+07:00")  # a Friday
    date = rules.appointment(submission, load_catalogue(), default_calendar())
    assert isinstance(date, dt.date) and date > dt.date(2026, 11, 27)
    assert date.weekday() < 5  # an appointment never falls on a weekend


def test_unknown_procedure_gives_a_vietnamese_reason() -> None:
    reason = rules.appointment(_submission(procedure_code="9.999999"), load_catalogue(),
                               default_calendar())
    assert reason == "Thủ tục «9.999999» không có trong danh mục."


def test_unreadable_dossier_gives_a_reason() -> None:
    reason = rules.submission_of(_doc(received_at="hôm qua"))
    assert reason == "Hồ sơ không đọc được: thiếu hoặc sai trường «received_at»."
    missing = rules.submission_of({k: v for k, v in _doc().items() if k != "agency_code"})
    assert missing == "Hồ sơ không đọc được: thiếu hoặc sai trường «agency_code»."
    naive = rules.submission_of(_doc(received_at="2026-11-27T09:00:00"))
    assert naive == "Thời điểm tiếp nhận thiếu múi giờ."


def test_receipt_event_is_a_valid_domain_event_in_the_handlers_queue() -> None:
    at = dt.datetime(2026, 11, 27, 9, 0, tzinfo=ICT)
    doc = rules.receipt_event(_submission(), at)
    assert doc["_id"] == "event:dossier:1:received"
    event = msgspec.convert({k: v for k, v in doc.items() if k != "_id"}, type=Event)
    assert event.kind == "received" and event.dossier == "TT-DEV01-000001"
    assert "queue:procedure:1.000419" in event.access


def test_outcomes_have_deterministic_ids_and_reasons() -> None:
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=ICT)
    code, _ = rules.allocate(None, "000.00.01.H22", dt.date(2026, 11, 27), "dossier:1")
    good = rules.accepted_outcome(_submission(), code, dt.date(2026, 12, 4), now)
    assert good["_id"] == "intake:dossier:1" and good["status"] == "received"
    assert good["official_code"] == "000.00.01.H22-261127-0001"
    assert good["appointment_date"] == "2026-12-04"
    bad = rules.attention_outcome("dossier:1", _doc(), ["Lý do A", "Lý do A", "Lý do B"], now)
    assert bad["_id"] == "intake:dossier:1" and bad["status"] == "needs_attention"
    assert bad["reasons"] == ["Lý do A", "Lý do B"]
    assert rules.attention_outcome("d", {}, [], now)["reasons"]  # never without a reason


# --- the receipt time ------------------------------------------------------------------------


def test_the_receipt_time_is_the_claim_unless_the_device_clock_runs_ahead() -> None:
    submission = _submission(received_at="2026-11-27T09:00:00+07:00")
    later = dt.datetime(2026, 11, 27, 10, 0, tzinfo=ICT)
    assert rules.receipt_time(submission, later) == submission.received_at
    earlier = dt.datetime(2026, 11, 27, 8, 0, tzinfo=ICT)  # the device claims a future time
    assert rules.receipt_time(submission, earlier) == earlier


def test_appointment_code_day_and_outcome_follow_the_receipt_time() -> None:
    # A device clock a day ahead: the claim is Saturday 00:30, intake runs on Friday 16:00.
    submission = _submission(received_at="2026-11-28T00:30:00+07:00")
    now = dt.datetime(2026, 11, 27, 16, 0, tzinfo=ICT)
    received = rules.receipt_time(submission, now)
    assert rules.code_day(submission, received) == dt.date(2026, 11, 27)
    assert rules.code_day(submission) == dt.date(2026, 11, 28)
    catalogue, calendar = load_catalogue(), default_calendar()
    due = rules.appointment(submission, catalogue, calendar, received)
    assert due == calendar.due_date(received, catalogue.get(PROCEDURE).versions[0]
                                    .time_limit.for_form({}))
    code, _ = rules.allocate(None, "000.00.01.H22", dt.date(2026, 11, 27), "dossier:1")
    outcome = rules.accepted_outcome(submission, code, dt.date(2026, 12, 4), now,
                                     received=received)
    assert outcome["received_at"] == received.isoformat()
    assert outcome["claimed_received_at"] == "2026-11-28T00:30:00+07:00"
    event = rules.receipt_event(submission, received)
    assert dt.datetime.fromisoformat(event["at"]) == received


# --- the signature summary --------------------------------------------------------------------


def _sig(field: str, *, kind: str = "signature", problems: tuple[Problem, ...] = (),
         trusted: bool = True, valid: bool = True, modification: str | None = "FORM_FILLING",
         revoked_at: str | None = None) -> SignatureReport:
    return SignatureReport(field=field, kind=kind, signer="Trần Văn Đức", signer_serial="1A2B",
                           claimed_time="2026-11-27T02:00:00+00:00", intact=True, valid=valid,
                           trusted=trusted, revoked_at=revoked_at, modification=modification,
                           problems=problems)


def test_a_drawn_citizen_signature_and_the_device_signature_are_reported() -> None:
    report = DocumentReport(signatures=(_sig(OFFICER_FIELD, modification="NONE"),),
                            attachments=(), problems=(), level="PAdES-B-B",
                            drawn_signature=True)
    summary = rules.signature_summary(report)
    assert summary["ok"] is True and summary["level"] == "PAdES-B-B"
    assert summary["modification"] == "NONE"
    drawn, device = summary["items"]
    assert drawn["kind"] == "citizen_drawn" and drawn["field"] == CITIZEN_FIELD
    assert drawn["signer"] is None and drawn["valid"] is None
    assert device == {
        "field": OFFICER_FIELD, "kind": "device",
        "label": "Chữ ký số của thiết bị cán bộ tiếp nhận", "signer": "Trần Văn Đức",
        "certificate_serial": "1A2B", "claimed_time": "2026-11-27T02:00:00+00:00",
        "valid": True, "trusted": True, "revocation_checked": True, "revoked_at": None,
        "modification": "NONE", "ok": True, "problems": []}
    assert json.loads(json.dumps(summary)) == summary  # plain JSON, stored as is


def test_a_citizen_certificate_signature_and_the_worst_modification_level() -> None:
    report = DocumentReport(
        signatures=(_sig(CITIZEN_FIELD, modification="FORM_FILLING"),
                    _sig(OFFICER_FIELD, modification="NONE"),
                    _sig("Timestamp", kind="timestamp", modification="LTA_UPDATES")),
        attachments=(), problems=(), level="PAdES-B-LTA")
    summary = rules.signature_summary(report)
    assert [i["kind"] for i in summary["items"]] == ["citizen_certificate", "device", "timestamp"]
    assert summary["modification"] == "FORM_FILLING"
    assert rules.document_modification(DocumentReport((), (), (), "")) is None


def test_failures_name_what_was_checked_in_vietnamese() -> None:
    revoked = _sig(OFFICER_FIELD, trusted=False, problems=(Problem.REVOKED,),
                   revoked_at="2026-11-26T00:00:00+00:00")
    no_crl = _sig(CITIZEN_FIELD, trusted=False, problems=(Problem.NO_REVOCATION_INFO,))
    broken = _sig("Other", valid=False, trusted=False, problems=(Problem.INTEGRITY,),
                  modification="OTHER")
    report = DocumentReport(signatures=(no_crl, revoked, broken), attachments=(),
                            problems=(Problem.DOSSIER_MISMATCH,), level="PAdES-B-B")
    summary = rules.signature_summary(report)
    citizen, device, other = summary["items"]
    assert summary["ok"] is False and summary["modification"] == "OTHER"
    assert summary["problems"] == [MESSAGES[Problem.DOSSIER_MISMATCH]]
    assert device["revocation_checked"] is True and device["revoked_at"].startswith("2026-11-26")
    assert device["problems"] == [MESSAGES[Problem.REVOKED]] and device["ok"] is False
    assert citizen["revocation_checked"] is False and citizen["trusted"] is False
    assert other["kind"] == "other" and other["valid"] is False
    outcome = rules.attention_outcome("dossier:1", _doc(), ["x"], dt.datetime.now(dt.UTC),
                                      signatures=summary)
    assert outcome["signatures"]["items"][1]["problems"] == [MESSAGES[Problem.REVOKED]]
