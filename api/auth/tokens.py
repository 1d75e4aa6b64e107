"""JWT access tokens (HS256, short-lived) and opaque refresh tokens.

The signing secret is generated on first start and kept in the data directory with
0600 permissions, so restarting the server keeps tokens valid and no secret is ever
part of the configuration. Refresh tokens are random; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from api.errors import NotAuthenticated

SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name
ALGORITHM = "HS256"


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two workers starting together must not write two different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


@dataclass(frozen=True)
class AccessClaims:
    username: str
    device_id: str
    role: str
    expires_at: int


class TokenIssuer:
    def __init__(self, secret: bytes, access_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl

    def access_token(self, username: str, device_id: str, role: str) -> str:
        now = int(time.time())
        claims = {"sub": username, "did": device_id, "role": role, "typ": "access",
                  "iat": now, "exp": now + self.access_ttl, "jti": secrets.token_hex(8)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub", "did", "typ"]})
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Phiên đăng nhập đã hết hạn; hãy làm mới mã truy cập.") from None
        except jwt.InvalidTokenError:
            raise NotAuthenticated("Mã truy cập không hợp lệ.") from None
        if claims.get("typ") != "access":
            raise NotAuthenticated("Mã truy cập không hợp lệ.")
        return AccessClaims(str(claims["sub"]), str(claims["did"]), str(claims.get("role")),
                            int(claims["exp"]))


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
