"""Encryption at rest: AES-256-GCM for bodies and attachment chunks.

Guarantees:
* every sealed value has its own random 96-bit nonce, and associated data that binds it
  to where it belongs (a document id and rev, a `_local` id, a blob id and chunk index),
  so a ciphertext moved to another row fails to open instead of decrypting as the wrong
  document;
* a database created with a key stores a verifier (a sealed constant); opening it with
  another key fails on the verifier, before any row is read or written;
* attachment digests are not stored in plaintext: blobs are addressed by an HMAC of the
  digest under a key derived from the data key, so equal attachments still de-duplicate
  but an observer cannot test a file's md5 against the store.

The key is 32 raw bytes (the caller derives it, e.g. from the officer's PIN with a
memory-hard KDF, and wraps it as it sees fit). Two sub-keys are derived with HKDF.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.errors import BadRequest, Unauthorized

KEY_BYTES = 32
NONCE_BYTES = 12
_VERIFIER_PLAINTEXT = b"doorstep-store key check v1"
_VERIFIER_AAD = b"key_check"


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


class Cipher:
    """Seals and opens values under one database key."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise BadRequest(f"the encryption key must be {KEY_BYTES} raw bytes")
        self._aead = AESGCM(_derive(bytes(key), b"doorstep-store/aead/v1"))
        self._mac_key = _derive(bytes(key), b"doorstep-store/blob-key/v1")

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag:
            raise Unauthorized(
                "stored data cannot be decrypted with this key: the key is wrong or the "
                "data was tampered with"
            ) from None

    def blob_key(self, digest: str) -> str:
        mac = hmac.new(self._mac_key, digest.encode("ascii"), hashlib.sha256)
        return "hmac-" + mac.hexdigest()

    def verifier(self) -> bytes:
        return self.seal(_VERIFIER_PLAINTEXT, _VERIFIER_AAD)

    def check(self, verifier: bytes) -> None:
        """Raise Unauthorized unless `verifier` was made with this key."""
        try:
            plaintext = self._aead.decrypt(
                verifier[:NONCE_BYTES], verifier[NONCE_BYTES:], _VERIFIER_AAD
            )
        except InvalidTag:
            raise Unauthorized("wrong key for this encrypted database") from None
        if plaintext != _VERIFIER_PLAINTEXT:
            raise Unauthorized("wrong key for this encrypted database")


def body_aad(doc_id: str, rev: str) -> bytes:
    return b"rev\x00" + doc_id.encode("utf-8") + b"\x00" + rev.encode("ascii")


def local_aad(doc_id: str) -> bytes:
    return b"local\x00" + doc_id.encode("utf-8")


def chunk_aad(blob_id: int, index: int) -> bytes:
    return f"chunk\x00{blob_id}\x00{index}".encode("ascii")
