"""Helpers for replication tests: make CouchDB-shaped histories, and read a database's
complete revision trees back over HTTP (`_all_docs`, then `open_revs=all&revs=true`)."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx


def rev_hash(*parts: object) -> str:
    return hashlib.md5(json.dumps(parts).encode()).hexdigest()


def history(doc_id: str, generations: int, branch: str = "") -> list[str]:
    """Rev ids 1..generations for one branch (the same prefix for all branches of a doc
    up to where `branch` makes them differ is the caller's business)."""
    return [f"{g}-{rev_hash(doc_id, g, branch)}" for g in range(1, generations + 1)]


def replicated_doc(doc_id: str, revs: list[str], body: dict[str, Any] | None = None,
                   deleted: bool = False, attachments: dict[str, bytes] | None = None
                   ) -> dict[str, Any]:
    """A `new_edits:false` document whose history is `revs` (oldest first)."""
    newest = revs[-1]
    doc: dict[str, Any] = {"_id": doc_id, "_rev": newest, **(body or {})}
    doc["_revisions"] = {"start": int(newest.split("-")[0]),
                         "ids": [r.split("-", 1)[1] for r in reversed(revs)]}
    if deleted:
        doc["_deleted"] = True
    if attachments:
        doc["_attachments"] = {
            name: {"content_type": "application/octet-stream",
                   "data": base64.b64encode(data).decode()}
            for name, data in attachments.items()
        }
    return doc


def bulk_write(db_url: str, docs: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{db_url}/_bulk_docs", json={"docs": docs, "new_edits": False},
                          timeout=120)
    assert response.status_code in (201, 202), response.text
    assert [r for r in response.json() if "error" in r] == []


def doc_path(doc_id: str) -> str:
    if doc_id.startswith("_design/"):
        return "_design/" + quote(doc_id[8:], safe="")
    return quote(doc_id, safe="")


def trees(db_url: str, *, with_attachments: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Every document's every leaf (`open_revs=all&revs=true`), with history, body and
    attachment digests, leaves sorted by rev."""
    with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=8)) as client:
        ids = leaf_ids(client, db_url)

        def leaves_of(doc_id: str) -> list[dict[str, Any]]:
            response = client.get(f"{db_url}/{doc_path(doc_id)}",
                                  params={"open_revs": "all", "revs": "true"},
                                  headers={"Accept": "application/json"})
            assert response.status_code == 200, response.text
            leaves = []
            for item in response.json():
                doc = item["ok"]
                atts = doc.pop("_attachments", {})
                if with_attachments:
                    doc["_attachments"] = {n: (a.get("digest"), a.get("length"))
                                           for n, a in atts.items()}
                leaves.append(doc)
            return sorted(leaves, key=lambda d: d["_rev"])

        with ThreadPoolExecutor(8) as pool:
            return dict(zip(ids, pool.map(leaves_of, ids), strict=True))


def leaf_ids(client: httpx.Client, db_url: str) -> list[str]:
    """Ids of all documents, deleted ones included (from the changes feed)."""
    response = client.get(f"{db_url}/_changes", params={"style": "all_docs"})
    assert response.status_code == 200, response.text
    return sorted({row["id"] for row in response.json()["results"]})


def all_docs(db_url: str) -> list[tuple[str, str]]:
    response = httpx.get(f"{db_url}/_all_docs", timeout=60)
    assert response.status_code == 200, response.text
    return [(row["id"], row["value"]["rev"]) for row in response.json()["rows"]]


def local_trees(db: Any, *, with_attachments: bool = True) -> dict[str, list[dict[str, Any]]]:
    """The same shape as `trees`, read from an embedded-store Database."""
    rows = db.changes(style="all_docs")["results"]
    result: dict[str, list[dict[str, Any]]] = {}
    for doc_id in sorted({row["id"] for row in rows}):
        leaves = []
        for item in db.open_revs(doc_id, "all", revs_history=True):
            doc = item["ok"]
            atts = doc.pop("_attachments", {})
            if with_attachments:
                doc["_attachments"] = {n: (a.get("digest"), a.get("length"))
                                       for n, a in atts.items()}
            leaves.append(doc)
        result[doc_id] = sorted(leaves, key=lambda d: d["_rev"])
    return result


def leaf_revs(db_url: str) -> dict[str, list[str]]:
    """Each document's leaf revisions, from one `_changes?style=all_docs` request."""
    response = httpx.get(f"{db_url}/_changes", params={"style": "all_docs"}, timeout=120)
    assert response.status_code == 200, response.text
    return {row["id"]: sorted(c["rev"] for c in row["changes"])
            for row in response.json()["results"]}
