"""Login, refresh, per-request authentication and revocation: the rules, over one database.

Guarantees: a password is checked only against its argon2id hash; after
`max_failed_logins` failures in a row an account is locked for `lockout_seconds` (the
answer says so in Vietnamese, and until when); a refresh token works only from the device
it was issued to; a revoked device or a disabled user gets `wipe: true` at its next
contact (login, refresh or sync) and nothing else.

Per-request authentication reads no store on the hot path: a verified access token's
claims are kept until the token expires (it cannot change: it is HMAC-signed), and a
user's standing on a device (not disabled, device not revoked, role) for at most
`STANDING_TTL_SECONDS`. Every write of a user or device record through this service
(disable, revoke, login binding, contact) drops the standing it changes at once, so a
revocation or disable made through this server takes effect on the very next request;
one written by another process (another server on the same CouchDB) within
`STANDING_TTL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.auth.tokens import AccessClaims, TokenIssuer, hash_refresh_token, new_refresh_token
from api.auth.users import (
    ROLES,
    DeviceRecord,
    RefreshRecord,
    Role,
    UserRecord,
    device_doc_id,
    from_doc,
    refresh_doc_id,
    to_doc,
    user_doc_id,
)
from api.errors import ConflictError, InvalidInput, LockedOut, NotAllowed, NotAuthenticated
from api.settings import AuthSettings
from sync.errors import Conflict, NotFound

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
_DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
_WIPE = "Thiết bị đã bị thu hồi hoặc tài khoản đã bị khoá; dữ liệu trên thiết bị phải được xoá."
# How long a user's standing on a device may be answered from memory when the change was
# not made through this process (see the module docstring).
STANDING_TTL_SECONDS = 2.0
_MAX_CACHED = 4096  # tokens or standings kept; past it the cache starts over (no growth)


@dataclass(frozen=True)
class Identity:
    username: str
    role: str
    device_id: str
    principals: tuple[str, ...]


class _Standing:
    """Verified token claims and users' standing on devices, kept in memory (thread-safe).

    A generation counter closes the race between a request that read the store before a
    revocation and stores its answer after the revocation dropped the cache: an answer
    read under an older generation is not kept."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0
        self._lock = threading.Lock()
        self._claims: dict[str, AccessClaims] = {}
        self._standing: dict[tuple[str, str], tuple[float, Identity]] = {}

    def claims(self, token: str) -> AccessClaims | None:
        found = self._claims.get(token)
        return found if found is not None and found.expires_at > time.time() else None

    def keep_claims(self, token: str, claims: AccessClaims) -> None:
        with self._lock:
            if len(self._claims) >= _MAX_CACHED:
                self._claims = {}
            self._claims[token] = claims

    def identity(self, username: str, device_id: str) -> Identity | None:
        found = self._standing.get((username, device_id))
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def keep_identity(self, identity: Identity, generation: int) -> None:
        with self._lock:
            if generation != self.generation:  # a write happened since the store was read
                return
            if len(self._standing) >= _MAX_CACHED:
                self._standing = {}
            key = (identity.username, identity.device_id)
            self._standing[key] = (time.monotonic() + self.ttl, identity)

    def forget(self, username: str | None = None, device_id: str | None = None) -> None:
        with self._lock:
            self.generation += 1
            self._standing = {k: v for k, v in self._standing.items()
                              if k[0] != username and k[1] != device_id}


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_json(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "expires_in": self.expires_in, "token_type": "Bearer"}


def check_device_id(device_id: object) -> str:
    if not isinstance(device_id, str) or not _DEVICE.match(device_id):
        raise InvalidInput("Mã thiết bị (device_id) phải gồm 1–64 chữ cái không dấu, chữ số, "
                           "'.', '_' hoặc '-'.")
    return device_id


class AuthService:
    def __init__(self, db: Any, issuer: TokenIssuer, settings: AuthSettings,
                 standing_ttl: float = STANDING_TTL_SECONDS) -> None:
        self._db = db
        self._cache = _Standing(standing_ttl)
        self._issuer = issuer
        self._settings = settings
        self._hasher = PasswordHasher(time_cost=settings.argon2_time_cost,
                                      memory_cost=settings.argon2_memory_kib, parallelism=2)
        self._dummy_hash = self._hasher.hash("not a password")

    # -- records ---------------------------------------------------------------------------

    def _read(self, doc_id: str) -> dict[str, Any] | None:
        try:
            doc: dict[str, Any] = self._db.get(doc_id)
        except NotFound:
            return None
        return doc

    def user(self, username: str) -> tuple[UserRecord, str] | None:
        doc = self._read(user_doc_id(username))
        return from_doc(doc, UserRecord) if doc else None

    def device(self, device_id: str) -> tuple[DeviceRecord, str] | None:
        doc = self._read(device_doc_id(device_id))
        return from_doc(doc, DeviceRecord) if doc else None

    def save_user(self, user: UserRecord, rev: str | None) -> str:
        try:
            return str(self._db.put(to_doc(user, user.doc_id, rev))["rev"])
        finally:  # even a failed write may have landed (a lost answer): never keep stale
            self._cache.forget(username=user.username)

    def save_device(self, device: DeviceRecord, rev: str | None) -> str:
        try:
            return str(self._db.put(to_doc(device, device_doc_id(device.device_id), rev))["rev"])
        finally:
            self._cache.forget(device_id=device.device_id)

    def users(self) -> list[UserRecord]:
        rows = self._db.all_docs(startkey="user:", endkey="user:\ufff0", include_docs=True)
        return [from_doc(r["doc"], UserRecord)[0] for r in rows["rows"]]

    def devices(self) -> list[DeviceRecord]:
        rows = self._db.all_docs(startkey="device:", endkey="device:\ufff0", include_docs=True)
        return [from_doc(r["doc"], DeviceRecord)[0] for r in rows["rows"]]

    # -- administration --------------------------------------------------------------------

    def create_user(self, username: str, password: str, role: str, full_name: str,
                    wards: tuple[str, ...] = ()) -> UserRecord:
        if not _NAME.match(username):
            raise InvalidInput("Tên đăng nhập phải gồm 2–32 chữ thường không dấu, chữ số, "
                               "'.', '_' hoặc '-', bắt đầu bằng chữ cái.")
        if role not in ROLES:
            raise InvalidInput(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
        if len(password) < 4:
            raise InvalidInput("Mật khẩu phải có ít nhất 4 ký tự.")
        user = UserRecord(username=username, full_name=full_name, role=_role(role),
                          password_hash=self._hasher.hash(password), wards=wards)
        try:
            self.save_user(user, None)
        except Conflict:
            raise ConflictError(f"Tài khoản {username} đã tồn tại.") from None
        return user

    def set_disabled(self, username: str, disabled: bool) -> None:
        found = self.user(username)
        if found is None:
            raise InvalidInput(f"Không có tài khoản {username}.")
        user, rev = found
        user.disabled = disabled
        self.save_user(user, rev)

    def revoke_device(self, device_id: str) -> DeviceRecord:
        found = self.device(device_id)
        if found is None:
            raise InvalidInput(f"Không có thiết bị {device_id}.")
        device, rev = found
        device.revoked = True
        self.save_device(device, rev)
        return device

    # -- login and refresh -----------------------------------------------------------------

    def login(self, username: str, password: str, device_id: str) -> TokenPair:
        check_device_id(device_id)
        found = self.user(username)
        if found is None:
            self._verify(self._dummy_hash, password)  # same cost whether or not the user exists
            raise NotAuthenticated(_BAD_LOGIN)
        user, rev = found
        now = time.time()
        if user.locked_until > now:
            raise LockedOut(_locked_message(user.locked_until - now))
        if not self._verify(user.password_hash, password):
            self._count_failure(user, rev, now)
            raise NotAuthenticated(_BAD_LOGIN)
        if user.disabled:
            raise NotAuthenticated(_WIPE, wipe=True)
        if user.failed_logins or user.locked_until:
            user.failed_logins, user.locked_until = 0, 0.0
            self.save_user(user, rev)
        self._bind_device(user, device_id)
        return self._issue(user, device_id)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def _count_failure(self, user: UserRecord, rev: str, now: float) -> None:
        user.failed_logins += 1
        if user.failed_logins >= self._settings.max_failed_logins:
            user.locked_until = now + self._settings.lockout_seconds
            user.failed_logins = 0
        # A concurrent attempt may have updated the counter; counting one less is harmless.
        with contextlib.suppress(Conflict):
            self.save_user(user, rev)
        if user.locked_until > now:
            raise LockedOut(_locked_message(user.locked_until - now))

    def _bind_device(self, user: UserRecord, device_id: str) -> None:
        found = self.device(device_id)
        if found is None:
            if user.role == "officer":
                self.save_device(DeviceRecord(device_id=device_id, username=user.username,
                                              last_seen=time.time()), None)
            return
        device, _ = found
        if device.revoked:
            raise NotAuthenticated(_WIPE, wipe=True)
        if device.username != user.username:
            raise NotAllowed("Thiết bị này đã được đăng ký cho cán bộ khác.")

    def _issue(self, user: UserRecord, device_id: str) -> TokenPair:
        token, token_hash = new_refresh_token()
        record = RefreshRecord(username=user.username, device_id=device_id,
                               expires_at=time.time() + self._settings.refresh_ttl_seconds)
        self._db.put(to_doc(record, refresh_doc_id(token_hash), None))
        access = self._issuer.access_token(user.username, device_id, user.role)
        return TokenPair(access, token, self._issuer.access_ttl)

    def refresh(self, refresh_token: str, device_id: str) -> TokenPair:
        check_device_id(device_id)
        doc = self._read(refresh_doc_id(hash_refresh_token(refresh_token)))
        if doc is None:
            raise NotAuthenticated("Mã làm mới không hợp lệ hoặc đã được dùng.")
        record, rev = from_doc(doc, RefreshRecord)
        if record.device_id != device_id:
            raise NotAuthenticated("Mã làm mới không thuộc thiết bị này.")
        try:  # rotation: each refresh token works once
            self._db.delete(str(doc["_id"]), rev)
        except (Conflict, NotFound):
            raise NotAuthenticated("Mã làm mới không hợp lệ hoặc đã được dùng.") from None
        if record.expires_at < time.time():
            raise NotAuthenticated("Mã làm mới đã hết hạn; hãy đăng nhập lại.")
        user = self._active_user(record.username, device_id)
        return self._issue(user, device_id)

    # -- every request ---------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Identity:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise NotAuthenticated("Cần mã truy cập (Authorization: Bearer …).")
        token = authorization[7:].strip()
        claims = self._cache.claims(token)
        if claims is None:
            claims = self._issuer.read_access(token)
            self._cache.keep_claims(token, claims)
        known = self._cache.identity(claims.username, claims.device_id)
        if known is not None:
            return known
        generation = self._cache.generation  # read before the store, see `_Standing`
        user = self._active_user(claims.username, claims.device_id)
        identity = Identity(user.username, user.role, claims.device_id, user.principals())
        self._cache.keep_identity(identity, generation)
        return identity

    def _active_user(self, username: str, device_id: str) -> UserRecord:
        found = self.user(username)
        if found is None or found[0].disabled:
            raise NotAuthenticated(_WIPE, wipe=True)
        user = found[0]
        device = self.device(device_id)
        if device is not None and (device[0].revoked or device[0].username != username):
            raise NotAuthenticated(_WIPE, wipe=True)
        if device is None and user.role == "officer":
            raise NotAuthenticated(_WIPE, wipe=True)
        return user

    def record_contact(self, device_id: str, skew_seconds: float | None) -> None:
        """Note when a device last synced and how far its clock is from ours."""
        found = self.device(device_id)
        if found is None:
            return
        device, rev = found
        device.last_seen = time.time()
        if skew_seconds is not None:
            device.clock_skew_seconds = round(skew_seconds, 3)
        # Another request of the same session may have recorded it a moment ago.
        with contextlib.suppress(Conflict):
            self.save_device(device, rev)


def _role(role: str) -> Role:
    checked: Role = msgspec.convert(role, Role)
    return checked


def _locked_message(seconds: float) -> str:
    minutes = max(1, int(seconds + 59) // 60)
    return (f"Tài khoản tạm bị khoá do đăng nhập sai quá nhiều lần; "
            f"hãy thử lại sau {minutes} phút.")
