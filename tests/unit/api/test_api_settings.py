"""Settings: defaults < file < environment < flags; bad values stop the start clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import serve
from api.errors import SettingsError
from api.settings import load_settings


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    file = tmp_path / "doorstep.toml"
    file.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\n[auth]\nmax_failed_logins = 3\n')
    settings = load_settings({"port": 9100}, env={"DOORSTEP_HOST": "10.0.0.1"},
                             config_file=file)
    assert settings.server.port == 9100
    assert settings.server.host == "10.0.0.1"
    assert settings.auth.max_failed_logins == 3
    assert settings.sync.max_longpoll_seconds == 60


@pytest.mark.parametrize(("flags", "env", "message"), [
    ({"port": 70000}, {}, "server.port"),
    ({}, {"DOORSTEP_PORT": "eighty"}, "server.port (from environment)"),
    ({}, {"DOORSTEP_AUTH_LOCKOUT_SECONDS": "-5"}, "auth.lockout_seconds"),
    ({"couchdb_url": "ftp://x"}, {}, "couchdb_url"),
    ({}, {"DOORSTEP_SYNC_MAX_DOCUMENT_BYTES": str(10**12)}, "max_document_bytes"),
])
def test_bad_values_name_the_setting(flags: dict[str, object], env: dict[str, str],
                                     message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(flags, env=env)


def test_bad_file_is_named(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[server\nport=1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(env={}, config_file=file)
    file.write_text("[server]\nspeed = 3\n")
    with pytest.raises(SettingsError, match=re.escape("unknown setting server.speed")):
        load_settings(env={}, config_file=file)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(env={}, config_file=tmp_path / "missing.toml")


def test_serve_refuses_bad_flags_without_traceback() -> None:
    result = CliRunner().invoke(serve, ["--port", "0"])
    assert result.exit_code != 0
    assert "invalid settings: server.port" in result.output
    assert "Traceback" not in result.output
