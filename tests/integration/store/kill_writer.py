"""Child process for test_survives_kill: writes batches forever, acking each after commit.

    python kill_writer.py DATA_DIR RUN [KEY_HEX]

Each batch creates BATCH new documents `r<RUN>-b<N>-<i>` (one with an attachment) and
updates the shared `counter` document, in one `bulk_docs` call; after it returns, one
JSON line `{"run", "batch", "revs": {id: rev}}` is printed and flushed: an acknowledgement.
Every fifth batch is followed by a compaction, so kills also land in compactions.
"""

from __future__ import annotations

import base64
import json
import sys

from sync.errors import NotFound
from sync.store import Store

BATCH = 40


def main() -> None:
    data_dir, run = sys.argv[1], int(sys.argv[2])
    key = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else None
    db = Store(data_dir).open("survivor", key=key, create=True)
    try:
        counter_rev: str | None = db.get("counter")["_rev"]
    except NotFound:
        counter_rev = None
    batch = 0
    while True:
        docs: list[dict] = [
            {"_id": f"r{run}-b{batch}-{i}", "run": run, "batch": batch, "i": i,
             "tên": "Trần Thị Hồng Nhung", "địa_chỉ": {"xã": "Tân Lập", "số": i}}
            for i in range(BATCH)
        ]
        payload = f"photo {run}/{batch}".encode() * 300
        docs[0]["_attachments"] = {
            "photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(payload).decode()}
        }
        counter = {"_id": "counter", "run": run, "batch": batch}
        if counter_rev is not None:
            counter["_rev"] = counter_rev
        docs.append(counter)
        results = db.bulk_docs(docs)
        failed = [r for r in results if "error" in r]
        if failed:
            raise SystemExit(f"unexpected write errors: {failed}")
        counter_rev = results[-1]["rev"]
        revs = {r["id"]: r["rev"] for r in results}
        sys.stdout.write(json.dumps({"run": run, "batch": batch, "revs": revs}) + "\n")
        sys.stdout.flush()
        if batch % 5 == 4:
            db.compact()
        batch += 1


if __name__ == "__main__":
    main()
