"""GET /api/dossiers/{id} and its attachments on both backends: the row, the dossier's data,
events applied and refused with reasons, every attachment (dossier, intake, result),
the intake's signature report, the result, the caller's allowed actions; 404 for what is
not there, 403 for officers and admins; and every read (or refused read) audited."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import register_helpers
from litestar.testing import TestClient
from register_helpers import LOCAL_TZ, Spec

from api.audit import AuditQuery
from api.services import Services

PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes all the same \xff\xd9"
RESULT_PDF = b"%PDF-1.7\n% a sealed result stands in here\n%%EOF\n"
SIGNATURES = {"ok": True, "signatures": [{"field": "CongDan", "valid": True},
                                         {"field": "CanBo", "valid": True}]}


def moment(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=LOCAL_TZ)


def _inline(data: bytes, content_type: str) -> dict[str, Any]:
    return {"content_type": content_type, "data": base64.b64encode(data).decode()}


@pytest.fixture
def dossier_id(back_office: Services) -> str:
    spec = Spec(n=11, received_at=moment(2), name="Võ Thị Uyên", events=[
        # "resolved" is refused: the dossier is not in processing yet.
        ("accepted", moment(2, 11), {}), ("resolved", moment(3), {}),
        ("processing", moment(3, 10), {})])
    central = back_office.central
    for doc in register_helpers.documents(spec):
        if doc["type"] == "dossier":
            doc["_attachments"] = {"anh-cccd.jpg": _inline(PHOTO, "image/jpeg")}
        if doc["type"] == "intake-outcome":
            doc["signatures"] = SIGNATURES
        central.put(doc)
    central.put({"_id": f"result:{spec.dossier_id}", "type": "result", "schema": 1,
                 "dossier_id": spec.dossier_id, "dossier": spec.code,
                 "official_code": "000.00.01.H22-260302-0011",
                 "sealed_at": "2026-03-04T10:00:00+07:00", "sealed_by": "handler1",
                 "access": ["officer:officer1"],
                 "_attachments": {"result.pdf": _inline(RESULT_PDF, "application/pdf")}})
    back_office.register.catch_up()
    return spec.dossier_id


def test_detail_shows_everything_known_of_the_dossier(
        back_office: Services, back_office_client: TestClient[Any], dossier_id: str,
        logins: Callable[[str], dict[str, str]]) -> None:
    answer = back_office_client.get(f"/api/dossiers/{dossier_id}", headers=logins("handler1"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["row"]["dossier_id"] == dossier_id
    assert body["row"]["status"] == "processing" and body["status_label"] == "Đang xử lý"
    assert body["row"]["has_result"] is True
    assert body["dossier"]["applicant"]["full_name"] == "Võ Thị Uyên"
    assert "_attachments" not in body["dossier"] and "_rev" not in body["dossier"]
    assert [e["kind"] for e in body["events"]] == ["received", "accepted", "processing"]
    assert body["events"][1]["label"] == "chấp nhận hồ sơ"
    [refused] = body["refused"]
    assert refused["kind"] == "resolved"
    assert "Đang xử lý" not in refused["reason"] and "Được tiếp nhận" in refused["reason"]
    names = {(a["name"], a["source"]) for a in body["attachments"]}
    assert names == {("anh-cccd.jpg", "dossier"), ("result.pdf", "result")}
    photo = next(a for a in body["attachments"] if a["name"] == "anh-cccd.jpg")
    assert photo["length"] == len(PHOTO) and photo["digest"].startswith("md5-")
    assert body["intake"]["status"] == "received"
    assert body["intake"]["signatures"] == SIGNATURES
    assert body["intake"]["official_code"] == body["row"]["official_code"]
    assert body["result"]["sealed_by"] == "handler1"
    assert set(body["allowed_actions"]) == {"supplement_requested", "extension_requested",
                                            "rejected", "resolved", "withdrawn"}
    supervisor = back_office_client.get(f"/api/dossiers/{dossier_id}",
                                        headers=logins("supervisor1")).json()
    assert set(supervisor["allowed_actions"]) == {"extension_requested", "rejected", "stopped"}


def test_attachments_are_served_from_where_they_live(
        back_office_client: TestClient[Any], dossier_id: str,
        logins: Callable[[str], dict[str, str]]) -> None:
    headers = logins("supervisor1")
    photo = back_office_client.get(f"/api/dossiers/{dossier_id}/attachments/anh-cccd.jpg",
                                   headers=headers)
    assert photo.status_code == 200 and photo.content == PHOTO
    assert photo.headers["content-type"].startswith("image/jpeg")
    result = back_office_client.get(f"/api/dossiers/{dossier_id}/attachments/result.pdf",
                                    headers=headers)
    assert result.status_code == 200 and result.content == RESULT_PDF
    missing = back_office_client.get(f"/api/dossiers/{dossier_id}/attachments/khong-co.pdf",
                                     headers=headers)
    assert missing.status_code == 404 and "khong-co.pdf" in missing.json()["detail"]


def test_unknown_dossiers_are_404_and_other_roles_403(
        back_office_client: TestClient[Any], dossier_id: str,
        logins: Callable[[str], dict[str, str]]) -> None:
    unknown = back_office_client.get("/api/dossiers/dossier:NOPE-000001",
                                     headers=logins("handler1"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for username in ("officer1", "admin"):
        for path in (f"/api/dossiers/{dossier_id}",
                     f"/api/dossiers/{dossier_id}/attachments/anh-cccd.jpg"):
            assert back_office_client.get(path, headers=logins(username)).status_code == 403


def test_every_read_is_audited(back_office: Services, back_office_client: TestClient[Any],
                               dossier_id: str,
                               logins: Callable[[str], dict[str, str]]) -> None:
    back_office_client.get("/api/dossiers", params={"q": "vo thi"},
                           headers=logins("handler1"))
    back_office_client.get(f"/api/dossiers/{dossier_id}", headers=logins("handler1"))
    back_office_client.get(f"/api/dossiers/{dossier_id}/attachments/result.pdf",
                           headers=logins("supervisor1"))
    back_office_client.get(f"/api/dossiers/{dossier_id}", headers=logins("admin"))
    entries = back_office.audit.query(AuditQuery(dossier=dossier_id)).items
    acts = [(e.actor, e.action, e.detail) for e in entries]
    # A list page is one entry holding the page's ids, found by actor (not by dossier).
    assert ("handler1", "dossier.list", "q=…") not in acts
    listed = [e for e in back_office.audit.query(AuditQuery(actor="handler1",
                                                            action="dossier.list")).items]
    assert [(e.detail, e.dossier_ids) for e in listed] == [("q=…", (dossier_id,))]
    assert ("handler1", "dossier.read", "") in acts
    assert ("supervisor1", "attachment.read", "result.pdf") in acts
    assert ("admin", "dossier.denied", "") in acts
