"""The embedded store: CouchDB-shaped databases in SQLite files (the only sqlite3 code).

See `API.md` beside this file for the contract; `Store` opens databases, `Database`
holds documents, the changes feed, attachments, `_local` documents and queries.
"""

from sync.store.attachments import AttachmentReader, decode_base64, digest_of
from sync.store.database import Database
from sync.store.limits import Limits
from sync.store.store import Store, check_db_name

__all__ = [
    "AttachmentReader", "Database", "Limits", "Store", "check_db_name", "decode_base64",
    "digest_of",
]
