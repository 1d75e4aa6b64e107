"""The server's settings: small dataclass groups, read from a TOML file, the environment
(`DOORSTEP_*`) and command-line flags (in rising precedence), validated once at start.

A bad value stops the start with a `SettingsError` that names the setting, where it came
from and what is accepted; nothing is guessed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from api.errors import SettingsError

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path = Path("data")
    couchdb_url: str | None = None
    # Prefix of the server's database names, so that several servers (or test runs) can
    # share one CouchDB.
    db_prefix: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False


@dataclass(frozen=True)
class AuthSettings:
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600
    max_failed_logins: int = 5
    lockout_seconds: int = 900
    # argon2id cost (RFC 9106's second recommended set by default); tests lower it.
    argon2_memory_kib: int = 64 * 1024
    argon2_time_cost: int = 3


@dataclass(frozen=True)
class SyncSettings:
    max_request_bytes: int = 64 * MIB
    max_document_bytes: int = 8 * MIB
    max_attachment_bytes: int = 32 * MIB
    max_longpoll_seconds: int = 60


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)


_GROUPS = {"server": ServerSettings, "auth": AuthSettings, "sync": SyncSettings}


def _coerce(group: str, name: str, raw: Any, kind: Any, source: str) -> Any:
    where = f"{group}.{name} (from {source})"
    if raw is None:
        return None
    try:
        if kind in (int, "int") and not isinstance(raw, bool):
            value = int(raw)
            if value <= 0:
                raise ValueError
            return value
        if kind in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if kind in (Path, "Path"):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: {raw!r} is not a valid {kind_name(kind)}") from None


def kind_name(kind: Any) -> str:
    names = {"int": "positive integer", "bool": "boolean (true/false)", "Path": "path"}
    return names.get(str(getattr(kind, "__name__", kind)), "string")


def _field_kind(annotation: Any) -> str:
    text = str(annotation)
    for kind in ("int", "bool", "Path"):
        if text.startswith(kind):
            return kind
    return "str"


def _apply(settings: Settings, values: Mapping[str, Mapping[str, Any]], source: str) -> Settings:
    for group, items in values.items():
        cls = _GROUPS.get(group)
        if cls is None or not isinstance(items, Mapping):
            raise SettingsError(f"unknown settings group {group!r} (from {source}); "
                                f"known: {', '.join(_GROUPS)}")
        known = {f.name: _field_kind(f.type) for f in fields(cls)}
        changes = {}
        for name, raw in items.items():
            if name not in known:
                raise SettingsError(f"unknown setting {group}.{name} (from {source}); "
                                    f"known: {', '.join(known)}")
            changes[name] = _coerce(group, name, raw, known[name], source)
        settings = replace(settings, **{group: replace(getattr(settings, group), **changes)})
    return settings


def _from_env(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for group, cls in _GROUPS.items():
        for f in fields(cls):
            # Server settings read without their group name: DOORSTEP_PORT, DOORSTEP_DATA_DIR.
            names = [f"DOORSTEP_{group.upper()}_{f.name.upper()}"]
            if group == "server":
                names.append(f"DOORSTEP_{f.name.upper()}")
            for name in names:
                if name in env:
                    found.setdefault(group, {})[f.name] = env[name]
    return found


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    return data


def _validate(settings: Settings) -> Settings:
    server = settings.server
    if not 0 < server.port < 65536:
        raise SettingsError(f"server.port must be between 1 and 65535, not {server.port}")
    if server.couchdb_url is not None:
        parts = urlsplit(server.couchdb_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"server.couchdb_url must be an http(s) URL, "
                                f"not {server.couchdb_url!r}")
    if server.db_prefix and not re.match(r"^[a-z][a-z0-9_$()+/-]*$", server.db_prefix):
        raise SettingsError(f"server.db_prefix must start with a lowercase letter and hold "
                            f"only a-z 0-9 _$()+-/, not {server.db_prefix!r}")
    if server.data_dir.exists() and not server.data_dir.is_dir():
        raise SettingsError(f"server.data_dir {server.data_dir} exists and is not a directory")
    if settings.sync.max_document_bytes > settings.sync.max_request_bytes:
        raise SettingsError("sync.max_document_bytes cannot exceed sync.max_request_bytes")
    return settings


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Defaults < settings file < environment < flags (server group), validated."""
    env = os.environ if env is None else env
    settings = Settings()
    file = config_file or (Path(env["DOORSTEP_CONFIG"]) if env.get("DOORSTEP_CONFIG") else None)
    if file is not None:
        settings = _apply(settings, _from_file(file), str(file))
    settings = _apply(settings, _from_env(env), "environment")
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if given:
        settings = _apply(settings, {"server": given}, "command line")
    return _validate(settings)
