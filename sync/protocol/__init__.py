"""The CouchDB replication protocol without I/O: ids, checkpoints, selectors and the steps.

`session` holds the protocol steps as generators of peer calls; `checkpoint` the pure
checkpoint arithmetic; `ids` the versioned replication ids; `model` the values exchanged
with peers; `multipart` the MIME framing CouchDB uses for attachments.
"""

from sync.protocol.ids import ReplicationSpec, replication_id
from sync.protocol.model import (
    Change,
    ChangesPage,
    FetchError,
    Missing,
    PeerInfo,
    Revision,
    Seq,
    Wanted,
    WriteFailure,
)

__all__ = [
    "Change",
    "ChangesPage",
    "FetchError",
    "Missing",
    "PeerInfo",
    "ReplicationSpec",
    "Revision",
    "Seq",
    "Wanted",
    "WriteFailure",
    "replication_id",
]
