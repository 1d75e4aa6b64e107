"""Replication peers behind one interface: HTTP CouchDB-API databases and the embedded store.

`open_peer(location)` picks the kind from the location: an `http(s)://` URL or a local
database path.
"""

from __future__ import annotations

import re

from sync.errors import BadRequest
from sync.peers.base import Peer
from sync.peers.http import HttpPeer, strip_credentials
from sync.peers.local import LocalPeer
from sync.peers.retry import Backoff, set_testing


def open_peer(
    location: str,
    *,
    user: str | None = None,
    password: str | None = None,
    bearer: str | None = None,
) -> Peer:
    """An HttpPeer for `http(s)://…`, otherwise a LocalPeer for the path."""
    if location.startswith(("http://", "https://")):
        return HttpPeer(location, user=user, password=password, bearer=bearer)
    scheme = _OTHER_SCHEME.match(location)
    if scheme:
        # Otherwise `ftp://host/db` would be taken for a relative path `ftp:/host/db`.
        raise BadRequest(
            f"unsupported scheme {scheme.group(1)!r} in {strip_credentials(location)!r}: "
            "use an http(s):// URL or a local database path"
        )
    return LocalPeer(location)


_OTHER_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


__all__ = [
    "Backoff",
    "HttpPeer",
    "LocalPeer",
    "Peer",
    "open_peer",
    "set_testing",
    "strip_credentials",
]
