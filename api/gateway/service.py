"""One officer's virtual database over the central one: the gateway's rules, HTTP-free.

Guarantees: every read goes through the access index (a document the officer may not see
answers exactly as a missing one); every write goes through `validation.check_write`
first and refused documents never reach storage; `_local` documents live under the
officer's own prefix; seqs handed out are opaque tokens bound to the officer, so a token
from another officer's feed is refused rather than misread.

Purge instruction: a document whose access moves away from the officer simply leaves the
officer's feed — no tombstone is sent, since a deletion would replicate back to the
central database — and its id goes on the officer's purge list, served as the read-only
virtual document `_local/doorstep-purge` (`{"ids": [...], "seq"}`). `_local` documents are
never replicated, so generic CouchDB clients are unaffected (they keep their stale copy
and receive nothing more of it); Doorstep's device agent reads the list at each sync and
purges what it names from its store.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.auth import Identity
from api.gateway.access_index import AccessIndex, IndexFollower
from api.gateway.validation import WriteLimits, check_write
from sync.errors import BadRequest, Forbidden, NotFound

PURGE_DOC = "_local/doorstep-purge"
_MISSING = {"error": "not_found", "reason": "missing"}


@dataclass(frozen=True)
class SyncCounters:
    """What a request moved, for /metrics."""

    docs_in: int = 0
    docs_out: int = 0


class SeqTokens:
    """Opaque, officer-bound seq tokens: `<seq>-<mac>`."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, username: str, seq: int) -> str:
        message = f"{username}\x00{seq}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:16]

    def encode(self, username: str, seq: int) -> str:
        return f"{seq}-{self._mac(username, seq)}"

    def decode(self, username: str, token: object, now: int) -> int:
        if token in (None, 0, "0", ""):
            return 0
        if token == "now":  # noqa: S105 - CouchDB's keyword, not a secret
            return now
        text = str(token)
        seq_text, _, mac = text.partition("-")
        if seq_text.isdigit() and hmac.compare_digest(mac, self._mac(username, int(seq_text))):
            return int(seq_text)
        raise BadRequest(f"since={text!r} is not a sequence this feed handed out")


class Gateway:
    def __init__(self, central: Any, follower: IndexFollower, tokens: SeqTokens,
                 limits: WriteLimits) -> None:
        self.central = central
        self.follower = follower
        self.index: AccessIndex = follower.index
        self.tokens = tokens
        self.limits = limits

    # -- access ----------------------------------------------------------------------------

    def check_visible(self, who: Identity, doc_id: str) -> None:
        if not self.index.visible(who.principals, doc_id):
            raise NotFound("missing")

    def local_id(self, who: Identity, doc_id: str) -> str:
        return f"_local/sync:{who.username}:{doc_id.removeprefix('_local/')}"

    # -- database --------------------------------------------------------------------------

    def info(self, who: Identity) -> dict[str, Any]:
        seq = self.index.seq
        return {
            "db_name": f"sync/{who.username}",
            "doc_count": self.index.count(who.principals),
            "doc_del_count": 0,
            "update_seq": self.tokens.encode(who.username, seq),
            "purge_seq": 0,
            "instance_start_time": "0",
            "compact_running": False,
        }

    def changes(self, who: Identity, *, since: object, limit: int | None, all_docs: bool,
                include_docs: bool, descending: bool = False) -> dict[str, Any]:
        start = self.tokens.decode(who.username, since, self.index.seq)
        feed = self.index.feed(who.principals, start)
        now = self.index.seq
        if descending:
            feed.reverse()
        cut = limit is not None and len(feed) > limit
        if limit is not None:
            feed = feed[:limit]
        results = []
        for seq, doc_id in feed:
            entry = self.index.entry(doc_id)
            if entry is None:
                continue
            revs = entry.revs if all_docs else entry.revs[:1]
            row: dict[str, Any] = {"seq": self.tokens.encode(who.username, seq), "id": doc_id,
                                   "changes": [{"rev": r} for r in revs]}
            if entry.deleted:
                row["deleted"] = True
            results.append(row)
        if include_docs and results:
            self._attach_docs(results)
        # Cut by `limit`: resume after the last row sent; else the feed is whole up to now.
        last = feed[-1][0] if cut and feed else now
        return {"results": results, "last_seq": self.tokens.encode(who.username, last),
                "pending": 0}

    def _attach_docs(self, rows: list[dict[str, Any]]) -> None:
        found = self.central.all_docs(keys=[r["id"] for r in rows], include_docs=True)
        by_id = {r["id"]: r.get("doc") for r in found["rows"] if "id" in r}
        for row in rows:
            row["doc"] = by_id.get(row["id"]) or {"_id": row["id"], "_deleted": True,
                                                 "_rev": row["changes"][0]["rev"]}

    def wait_for_changes(self, who: Identity, since: object, timeout: float) -> bool:
        start = self.tokens.decode(who.username, since, self.index.seq)
        deadline = time.monotonic() + timeout
        while True:
            if self.index.feed(who.principals, start):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Wake on any central change, then look again whether it concerns this officer.
            self.index.wait_past(self.index.seq, remaining)

    def purge_instructions(self, who: Identity) -> dict[str, Any]:
        return {"_id": PURGE_DOC, "_rev": "0-1", "ids": self.index.purged(who.principals),
                "seq": self.tokens.encode(who.username, self.index.seq)}

    # -- reading documents -----------------------------------------------------------------

    def revs_diff(self, who: Identity, request: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(request, Mapping):
            raise BadRequest("_revs_diff takes an object {id: [revs]}")
        mine: dict[str, Any] = {}
        answer: dict[str, Any] = {}
        for doc_id, revs in request.items():
            if not isinstance(revs, list):
                raise BadRequest(f"_revs_diff: the revs of {doc_id!r} must be a list")
            if self.index.exists(doc_id) and not self.index.visible(who.principals, doc_id):
                # Someone else's document: say nothing about what the server holds.
                answer[doc_id] = {"missing": list(revs)}
            else:
                mine[doc_id] = revs
        answer.update(self.central.revs_diff(mine) if mine else {})
        return answer

    def bulk_get(self, who: Identity, docs: object, *, revs: bool, attachments: bool,
                 latest: bool) -> dict[str, Any]:
        if not isinstance(docs, list):
            raise BadRequest("_bulk_get takes {\"docs\": [{\"id\", \"rev\"?}, …]}")
        allowed: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []
        for item in docs:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise BadRequest(f"_bulk_get: each item needs a string id, not {item!r}")
            (allowed if self.index.visible(who.principals, item["id"]) else refused).append(item)
        result = self.central.bulk_get(allowed, revs=revs, attachments=attachments,
                                       latest=latest) if allowed else {"results": []}
        by_id = {r["id"]: r for r in result["results"]}
        out = []
        for item in docs:
            if item in refused:
                error = {"id": item["id"], "rev": item.get("rev", ""), **_MISSING}
                out.append({"id": item["id"], "docs": [{"error": error}]})
            else:
                out.append(by_id.get(item["id"], {"id": item["id"], "docs": []}))
        return {"results": out}

    def get(self, who: Identity, doc_id: str, options: dict[str, Any]) -> Any:
        if doc_id == PURGE_DOC:
            return self.purge_instructions(who)
        if doc_id.startswith("_local/"):
            doc = dict(self.central.get_local(self.local_id(who, doc_id)))
            doc["_id"] = doc_id
            return doc
        self.check_visible(who, doc_id)
        open_revs = options.pop("open_revs", None)
        if open_revs is not None:
            return self.central.open_revs(
                doc_id, open_revs, revs_history=bool(options.get("revs")),
                latest=bool(options.get("latest")),
                attachments=bool(options.get("attachments")),
                atts_since=options.get("atts_since"))
        return self.central.get(doc_id, **options)

    def attachment(self, who: Identity, doc_id: str, name: str, rev: str | None) -> Any:
        self.check_visible(who, doc_id)
        return self.central.attachment(doc_id, name, rev=rev)

    # -- writing ---------------------------------------------------------------------------

    def put_local(self, who: Identity, doc_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        if doc_id == PURGE_DOC:
            raise Forbidden("the purge instructions are written by the server only")
        stored = dict(doc, _id=self.local_id(who, doc_id))
        result = dict(self.central.put_local(stored))
        result["id"] = doc_id
        return result

    def delete_local(self, who: Identity, doc_id: str, rev: str) -> dict[str, Any]:
        result = dict(self.central.delete_local(self.local_id(who, doc_id), rev))
        result["id"] = doc_id
        return result

    def _existing(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = [i for i in ids if self.index.exists(i)]
        if not ids:
            return {}
        rows = self.central.all_docs(keys=ids, include_docs=True)["rows"]
        return {r["id"]: r["doc"] for r in rows if r.get("doc")}

    def bulk_docs(self, who: Identity, docs: object, *, new_edits: bool) -> list[dict[str, Any]]:
        if not isinstance(docs, list):
            raise BadRequest("_bulk_docs takes {\"docs\": [ … ]}")
        self.follower.catch_up()  # judge against every write made so far, by any path
        existing = self._existing(d["_id"] for d in docs
                                  if isinstance(d, dict) and isinstance(d.get("_id"), str))
        answers: list[dict[str, Any] | None] = []
        accepted = []
        for doc in docs:
            doc_id = doc.get("_id") if isinstance(doc, dict) else None
            refusal = check_write(who.username, doc, existing.get(str(doc_id)), self.limits)
            if refusal is not None:
                answers.append(refusal.row(doc_id, doc.get("_rev") if isinstance(doc, dict)
                                           else None))
            else:
                answers.append(None)
                accepted.append(doc)
        stored = self.central.bulk_docs(accepted, new_edits=new_edits) if accepted else []
        self.follower.catch_up()
        if not new_edits:
            return [a for a in answers if a is not None] + stored
        results = iter(stored)
        return [a if a is not None else next(results) for a in answers]

    def put(self, who: Identity, doc: dict[str, Any], *, new_edits: bool,
            streams: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.follower.catch_up()
        existing = self._existing([doc["_id"]]) if isinstance(doc.get("_id"), str) else {}
        refusal = check_write(who.username, doc, existing.get(doc["_id"]), self.limits)
        if refusal is not None:
            raise _as_error(refusal.error, refusal.reason)
        result: dict[str, Any] = self.central.put(doc, new_edits=new_edits,
                                                  attachment_streams=streams)
        self.follower.catch_up()
        return result


def _as_error(error: str, reason: str) -> Exception:
    from sync.errors import named

    return (named(error) or Forbidden)(reason)
