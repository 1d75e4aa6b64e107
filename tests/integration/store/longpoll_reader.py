"""Child process for test_concurrent_readers: long-polls the feed, reports wake-up times.

    python longpoll_reader.py DATA_DIR COUNT

Prints "ready <seq>" once, then for each of COUNT wake-ups one line
"<time.monotonic() at wake-up> <ids seen>"; CLOCK_MONOTONIC is shared by all processes.
"""

from __future__ import annotations

import sys
import time

from sync.store import Store


def main() -> None:
    db = Store(sys.argv[1]).open("shared")
    since = db.info()["update_seq"]
    print(f"ready {since}", flush=True)
    for _ in range(int(sys.argv[2])):
        feed = db.changes(since=since, timeout=10)
        woke = time.monotonic()
        since = feed["last_seq"]
        print(f"{woke} {','.join(r['id'] for r in feed['results'])}", flush=True)
    db.close()


if __name__ == "__main__":
    main()
