"""The CouchDB backend: the embedded store's database API over Apache CouchDB's HTTP API.

`CouchServer(url).open(name, create=True)` answers a `CouchDatabase` with the subset of
`sync.store.Database` that the server needs (documents, `_bulk_docs`, `_all_docs`, the
changes feed with long-poll, `_revs_diff`, `_bulk_get`, `open_revs`, attachments and
`_local` documents), raising the same `sync.errors` for the same CouchDB answers. Tested
against PouchDB Server; sequences are passed through as opaque JSON.
"""

from sync.couchdb.client import CouchAttachment, CouchDatabase, CouchServer

__all__ = ["CouchAttachment", "CouchDatabase", "CouchServer"]
