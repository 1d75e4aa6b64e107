"""The `doorstep` command: one click group, each package adding its own sub-commands.

Sub-command groups live beside the code they drive (`dossiers/cli.py`, `signing/cli.py`, …)
and are listed in `_GROUPS`; the root imports them lazily so `doorstep --help` stays fast
and a package's heavy imports (pyHanko, Litestar) load only when its command runs.
"""

from __future__ import annotations

import importlib

import click

from doorstep import __version__

# name -> "module:attribute" of a click command or group.
_GROUPS: dict[str, str] = {
    "replicate": "sync.cli:replicate",
    "serve": "api.cli:serve",
    "intake": "api.intake.cli:intake",
    "calendar": "dossiers.cli:calendar_group",
    "catalogue": "dossiers.cli:catalogue",
    "pki": "signing.cli:pki_group",
    "sign": "field.cli:sign_command",
    "verify": "field.cli:verify_command",
    "field": "field.device_cli:field_group",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_GROUPS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = _GROUPS.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = spec.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        return command


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="doorstep")
def main() -> None:
    """Doorstep — một cửa tại nhà: sync, signing and the back office."""
