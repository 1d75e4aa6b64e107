"""The officer's device on disk: its identity, its embedded store and its sync record.

Layout of a device's data directory:
- `device.json` — the device's identity (`device_id`), its provisional-code counter, the
  last sync time and last error, the wrapped store key, and a wipe record once wiped;
- `store/` — the embedded store (`sync.store`) holding one database, `field`, which the
  device replicates with the officer's virtual database at the gateway;
- `device.p12` — the device key and district certificate, protected by the officer's PIN.

Guarantees:
- With a PIN, the store is encrypted at rest (AES-GCM in `sync.store`) under a random data
  key; only that key wrapped by an argon2id key from the PIN is written to disk.
- `purge(ids)` removes every revision of those documents from the store (not a deletion:
  nothing is left that could replicate back).
- `wipe(reason)` erases the store and the key material and leaves only the record that it
  happened; a wiped device refuses to open its store again.
- `device.json` is changed under a lock, from what is on disk, and written atomically, so
  processes sharing the directory never undo each other's changes (a provisional code is
  never handed out twice); no password, token or PIN is ever written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dossiers.codes import provisional_code
from field.errors import DeviceError
from sync.errors import NotFound
from sync.peers import LocalPeer
from sync.store import Database, Store

STATE_FILE = "device.json"
LOCK_FILE = "device.lock"
STORE_DIR = "store"
DB_NAME = "field"
CREDENTIAL_FILE = "device.p12"
STATE_SCHEMA = 1
# argon2id for the PIN (RFC 9106's second recommended set); tests may lower it through
# the environment, as the server's settings allow for passwords. The cost used is stored
# with the wrapped key, so a key wrapped at one cost still opens.
KDF_MEMORY_KIB = 64 * 1024
KDF_TIME_COST = 3


def _kdf_cost() -> tuple[int, int]:
    memory = int(os.environ.get("DOORSTEP_FIELD_ARGON2_MEMORY_KIB", KDF_MEMORY_KIB))
    return memory, int(os.environ.get("DOORSTEP_FIELD_ARGON2_TIME_COST", KDF_TIME_COST))


class WrappedKey(msgspec.Struct, frozen=True, kw_only=True):
    salt: str  # hex
    nonce: str  # hex
    sealed: str  # hex: AES-GCM of the data key under the PIN's key
    memory_kib: int
    time_cost: int


class DeviceState(msgspec.Struct, kw_only=True):
    schema: int = STATE_SCHEMA
    device_id: str
    username: str | None = None
    server: str | None = None
    counter: int = 0  # the last provisional-code counter handed out
    certificate_serial: str | None = None
    store_key: WrappedKey | None = None
    last_sync_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    wiped_at: str | None = None
    wipe_reason: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_device_id() -> str:
    """Letters and digits only: it becomes part of the provisional dossier codes."""
    return "D" + secrets.token_hex(6).upper()


def _pin_key(pin: str, salt: bytes, memory_kib: int, time_cost: int) -> bytes:
    return hash_secret_raw(pin.encode("utf-8"), salt, time_cost=time_cost,
                           memory_cost=memory_kib, parallelism=1, hash_len=32, type=Type.ID)


def wrap_key(data_key: bytes, pin: str) -> WrappedKey:
    salt, nonce = os.urandom(16), os.urandom(12)
    memory, time_cost = _kdf_cost()
    kek = _pin_key(pin, salt, memory, time_cost)
    sealed = AESGCM(kek).encrypt(nonce, data_key, b"doorstep-field/store-key/v1")
    return WrappedKey(salt=salt.hex(), nonce=nonce.hex(), sealed=sealed.hex(),
                      memory_kib=memory, time_cost=time_cost)


def unwrap_key(wrapped: WrappedKey, pin: str) -> bytes:
    kek = _pin_key(pin, bytes.fromhex(wrapped.salt), wrapped.memory_kib, wrapped.time_cost)
    try:
        return AESGCM(kek).decrypt(bytes.fromhex(wrapped.nonce), bytes.fromhex(wrapped.sealed),
                                   b"doorstep-field/store-key/v1")
    except InvalidTag as exc:
        raise DeviceError("mã PIN không đúng: không mở được dữ liệu trên thiết bị.") from exc


class Device:
    """A device's data directory, opened."""

    def __init__(self, directory: Path, state: DeviceState, key: bytes | None) -> None:
        self.directory = directory
        self.state = state
        self._key = key
        self._store: Store | None = None
        self._db: Database | None = None

    @classmethod
    def open(cls, directory: Path, *, pin: str | None = None,
             device_id: str | None = None) -> Device:
        """Open (or set up, on first use) the device in `directory`."""
        directory = Path(directory)
        path = directory / STATE_FILE
        if path.exists():
            state = read_state(path)
            if state.wiped_at is not None:
                raise DeviceError(f"dữ liệu trên thiết bị đã bị xoá lúc {state.wiped_at} "
                                  f"({state.wipe_reason}); cần cấp lại thiết bị.")
            if device_id is not None and device_id != state.device_id:
                raise DeviceError(f"thư mục {directory} thuộc thiết bị {state.device_id}, "
                                  f"không phải {device_id}.")
            key = None
            if state.store_key is not None:
                if not pin:
                    raise DeviceError("dữ liệu trên thiết bị được mã hoá: cần mã PIN.")
                key = unwrap_key(state.store_key, pin)
            return cls(directory, state, key)
        directory.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32) if pin else None
        state = DeviceState(device_id=device_id or new_device_id(),
                            store_key=wrap_key(key, pin) if key and pin else None)
        device = cls(directory, state, key)
        with device.updating():
            pass  # writes the new record
        return device

    # -- the store -------------------------------------------------------------------------

    @property
    def db(self) -> Database:
        if self._db is None:
            self._store = Store(self.directory / STORE_DIR)
            self._db = self._store.open(DB_NAME, key=self._key, create=True)
        return self._db

    def peer(self) -> LocalPeer:
        return LocalPeer.of(self.db, f"device:{self.state.device_id}")

    def purge(self, ids: list[str]) -> list[str]:
        """Remove every revision of these documents; answer the ids that were here."""
        gone = []
        for doc_id in ids:
            revs = [r["ok"]["_rev"] for r in self.db.open_revs(doc_id, "all") if "ok" in r]
            if revs:
                self.db.purge({doc_id: revs})
                gone.append(doc_id)
        return gone

    def get(self, doc_id: str) -> dict[str, object] | None:
        try:
            doc: dict[str, object] = self.db.get(doc_id)
        except NotFound:
            return None
        return doc

    # -- identity and record ---------------------------------------------------------------

    @contextmanager
    def updating(self) -> Iterator[DeviceState]:
        """Change the record on disk: locked, from what is on disk now, written atomically.

        Several processes share a device's directory (the capture UI, background sync): a
        change made from a stale copy would undo another's, e.g. hand out a provisional
        code twice."""
        with (self.directory / LOCK_FILE).open("a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.directory / STATE_FILE
            state = read_state(path) if path.exists() else self.state
            yield state
            _write_state(path, state)
            self.state = state

    def next_provisional_code(self) -> str:
        """The next provisional dossier code of this device (the counter only grows)."""
        with self.updating() as state:
            state.counter += 1
            counter = state.counter
        return provisional_code(self.state.device_id, counter)

    @property
    def credential_path(self) -> Path:
        return self.directory / CREDENTIAL_FILE

    def record_success(self, *, username: str, server: str) -> None:
        with self.updating() as state:
            state.username, state.server = username, server
            state.last_sync_at = _now()
            state.last_error = state.last_error_at = None

    def record_error(self, message: str) -> None:
        with self.updating() as state:
            state.last_error, state.last_error_at = message, _now()

    def wipe(self, reason: str) -> None:
        """Erase the store and the key material; keep only the record of the wipe."""
        self.close()
        shutil.rmtree(self.directory / STORE_DIR, ignore_errors=True)
        self.credential_path.unlink(missing_ok=True)
        with self.updating() as state:
            state.store_key = state.certificate_serial = None
            state.wiped_at, state.wipe_reason = _now(), reason

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._store = None


def _write_state(path: Path, state: DeviceState) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(state)))
    os.replace(temporary, path)


def read_state(path: Path) -> DeviceState:
    try:
        return msgspec.json.decode(path.read_bytes(), type=DeviceState)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DeviceError(f"tệp trạng thái thiết bị {path} bị hỏng: {exc}.") from exc
    except OSError as exc:
        raise DeviceError(f"không đọc được tệp trạng thái thiết bị {path}: "
                          f"{exc.strerror}.") from exc
