"""Size limits a Store enforces (TooLarge beyond them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    # CouchDB's default max_document_size is 8 MB; the JSON body plus attachment metadata.
    max_document_bytes: int = 8 * 1024 * 1024
    # Photos and signed PDFs; streamed, so this bounds disk, not memory.
    max_attachment_bytes: int = 256 * 1024 * 1024
