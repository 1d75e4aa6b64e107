"""Writes through the gateway: valid dossiers land; bad input is a clear 4xx and leaves
storage exactly as it was."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from gateway_helpers import dossier_doc, event_doc, login
from litestar.testing import TestClient

from api.services import Services

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def _with_attachment(doc: dict[str, Any], data: bytes = JPEG) -> dict[str, Any]:
    doc["_attachments"] = {"giay-to-trang-1.jpg": {
        "content_type": "image/jpeg", "data": base64.b64encode(data).decode()}}
    return doc


def test_dossier_with_attachment_and_event_are_accepted(
    client: TestClient[Any], services: Services
) -> None:
    headers = login(client, "officer1")
    dossier = _with_attachment(dossier_doc("officer1"))
    dossier["_rev"] = "1-" + "a" * 32
    event = event_doc("officer1", dossier["provisional_code"])
    event["_rev"] = "1-" + "b" * 32
    answer = client.post("/sync/officer1/_bulk_docs", headers=headers,
                         json={"docs": [dossier, event], "new_edits": False})
    assert answer.status_code == 201 and answer.json() == []
    stored = services.central.get(dossier["_id"])
    assert stored["_attachments"]["giay-to-trang-1.jpg"]["length"] == len(JPEG)
    ids = {r["id"] for r in client.get("/sync/officer1/_changes", headers=headers).json()[
        "results"]}
    assert {dossier["_id"], event["_id"]} <= ids
    att = client.get(f"/sync/officer1/{dossier['_id']}/giay-to-trang-1.jpg", headers=headers)
    assert att.status_code == 200 and att.content == JPEG
    # The same revision again is idempotent; changed signed content is refused.
    again = client.post("/sync/officer1/_bulk_docs", headers=headers,
                        json={"docs": [dossier], "new_edits": False})
    assert again.json() == []
    changed = dict(dossier, _rev="2-" + "c" * 32, place="office")
    refused = client.post("/sync/officer1/_bulk_docs", headers=headers,
                          json={"docs": [changed], "new_edits": False}).json()
    assert refused[0]["error"] == "forbidden" and "signed" in refused[0]["reason"]
    assert services.central.get(dossier["_id"])["_rev"] == dossier["_rev"]


def test_multipart_related_put_stores_the_attachment(
    client: TestClient[Any], services: Services
) -> None:
    headers = login(client, "officer1")
    doc = dossier_doc("officer1", 2)
    doc["_rev"] = "1-" + "d" * 32
    doc["_attachments"] = {"anh.jpg": {"content_type": "image/jpeg", "follows": True,
                                       "length": len(JPEG)}}
    boundary = "xyzBOUNDARY"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(doc)}\r\n"
            f"--{boundary}\r\nContent-Type: image/jpeg\r\n\r\n").encode() + JPEG + (
        f"\r\n--{boundary}--").encode()
    answer = client.put(f"/sync/officer1/{doc['_id']}?new_edits=false", content=body,
                        headers={**headers, "Content-Type":
                                 f'multipart/related; boundary="{boundary}"'})
    assert answer.status_code == 201, answer.text
    reader = services.central.attachment(doc["_id"], "anh.jpg")
    assert reader.read() == JPEG


def _unchanged(services: Services, before: int) -> None:
    assert services.central.info()["update_seq"] == before


BAD_BULK = [
    ("malformed JSON", b'{"docs": [', "application/json", 400),
    ("wrong content type", b'{"docs": []}', "text/plain", 400),
    ("docs not a list", b'{"docs": {}}', "application/json", 400),
    ("new_edits not a bool", b'{"docs": [], "new_edits": "no"}', "application/json", 400),
    ("request over the limit", b'{"docs": ["' + b"x" * (3 * 1024 * 1024) + b'"]}',
     "application/json", 413),
]


@pytest.mark.parametrize(("what", "body", "content_type", "status"), BAD_BULK,
                         ids=[b[0] for b in BAD_BULK])
def test_bad_bulk_requests_are_refused_whole(
    client: TestClient[Any], services: Services, what: str, body: bytes, content_type: str,
    status: int
) -> None:
    headers = {**login(client, "officer1"), "Content-Type": content_type}
    before = services.central.info()["update_seq"]
    answer = client.post("/sync/officer1/_bulk_docs", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] and answer.json()["reason"]
    _unchanged(services, before)


def test_bad_documents_get_a_reason_each(client: TestClient[Any], services: Services) -> None:
    headers = login(client, "officer1")
    before = services.central.info()["update_seq"]
    no_type = dossier_doc("officer1", 3)
    del no_type["type"]
    bad_schema = dossier_doc("officer1", 4)
    bad_schema["schema"] = 99
    missing_field = dossier_doc("officer1", 5)
    del missing_field["applicant"]
    deleted = dict(dossier_doc("officer1", 6), _deleted=True)
    too_big = _with_attachment(dossier_doc("officer1", 7), b"\0" * (300 * 1024))
    bad_base64 = dossier_doc("officer1", 8)
    bad_base64["_attachments"] = {"a": {"content_type": "image/jpeg", "data": "@@@"}}
    handler_event = event_doc("officer1", "x")
    handler_event["role"] = "handler"
    docs: list[Any] = [
        {"_id": "_design/evil", "views": {}},
        no_type, bad_schema, missing_field, deleted, too_big, bad_base64, handler_event,
        {"_id": "visit:new", "type": "visit"}, "not an object", {"type": "dossier"},
    ]
    rows = client.post("/sync/officer1/_bulk_docs", headers=headers,
                       json={"docs": docs, "new_edits": True}).json()
    assert [r["error"] for r in rows] == [
        "forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "too_large",
        "bad_request", "forbidden", "forbidden", "bad_request", "bad_request"]
    assert all(r["reason"] for r in rows)
    assert "applicant" in rows[3]["reason"]
    _unchanged(services, before)


def test_bad_revs_are_refused_per_document(client: TestClient[Any], services: Services) -> None:
    headers = login(client, "officer1")
    before = services.central.info()["update_seq"]
    doc = dict(dossier_doc("officer1", 9), _rev="not-a-rev")
    answer = client.post("/sync/officer1/_bulk_docs", headers=headers,
                         json={"docs": [doc], "new_edits": False})
    assert answer.status_code in (201, 400)
    assert "error" in json.dumps(answer.json())
    _unchanged(services, before)


@pytest.mark.parametrize(("method", "path", "content_type", "body", "status"), [
    ("PUT", "/_design/x", "application/json", b'{"views": {}}', 403),
    ("PUT", "/_users", "application/json", b"{}", 404),
    ("DELETE", "/visit:officer1-001?rev=1-abc", None, b"", 403),
    ("PUT", "/dossier:x", "multipart/related; boundary=zz", b"--zz\r\nbroken", 400),
    ("PUT", "/dossier:x", "multipart/related", b"--zz--", 400),
    ("PUT", "/dossier:x", "application/json", b"[1, 2]", 400),
    ("PUT", "/dossier:x/photo.jpg", "image/jpeg", b"\xff\xd8", 403),
    ("GET", "/_changes?since=garbage", None, b"", 400),
    ("GET", "/_changes?feed=continuous", None, b"", 400),
    ("GET", "/_changes?limit=-1", None, b"", 400),
    ("GET", "/visit:officer1-001?open_revs=[broken", None, b"", 400),
    ("POST", "/_revs_diff", "application/json", b'{"a": "1-x"}', 400),
    ("POST", "/_bulk_get", "application/json", b'{"docs": [{"rev": "1-x"}]}', 400),
])
def test_bad_requests_are_clear_4xx(
    client: TestClient[Any], services: Services, method: str, path: str,
    content_type: str | None, body: bytes, status: int
) -> None:
    headers = login(client, "officer1")
    if content_type:
        headers["Content-Type"] = content_type
    before = services.central.info()["update_seq"]
    answer = client.request(method, f"/sync/officer1{path}", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) >= {"error", "reason"}
    _unchanged(services, before)


def test_open_revs_as_json_and_multipart_mixed(client: TestClient[Any]) -> None:
    headers = login(client, "officer1")
    as_json = client.get("/sync/officer1/visit:officer1-001", headers=headers,
                         params={"open_revs": "all", "revs": "true"})
    assert as_json.status_code == 200
    [only] = as_json.json()
    assert only["ok"]["_revisions"]["start"] == 1
    mixed = client.get("/sync/officer1/visit:officer1-001", params={"open_revs": "all"},
                       headers={**headers, "Accept": "multipart/mixed"})
    assert mixed.headers["content-type"].startswith("multipart/mixed")
    boundary = mixed.headers["content-type"].split('boundary="')[1].rstrip('"')
    parts = [p for p in mixed.content.split(f"--{boundary}".encode()) if b"{" in p]
    assert len(parts) == 1
    body = json.loads(parts[0].split(b"\r\n\r\n", 1)[1])
    assert body["_id"] == "visit:officer1-001"
