"""`doorstep serve`: settings from flags, environment and a file, then uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from api.errors import SettingsError


@click.command("serve")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data directory of the embedded store (default: ./data).")
@click.option("--couchdb", "couchdb_url", default=None, help="Run on Apache CouchDB at URL.")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="A TOML settings file (also DOORSTEP_CONFIG).")
@click.option("--demo", is_flag=True, default=None,
              help="Fill an empty data directory with demo data (users' password: demo).")
def serve(data_dir: Path | None, couchdb_url: str | None, host: str | None, port: int | None,
          config_file: Path | None, demo: bool | None) -> None:
    """Run the server: back-office API, sync gateway, /health and /metrics."""
    from api.settings import load_settings

    try:
        settings = load_settings({"data_dir": data_dir, "couchdb_url": couchdb_url,
                                  "host": host, "port": port, "demo": demo},
                                 config_file=config_file)
    except SettingsError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from None
    import uvicorn

    from api.app import create_app
    from api.services import open_services

    try:
        services = open_services(settings)
    except Exception as exc:  # storage that cannot be opened: say which and why, no traceback
        raise click.ClickException(f"cannot open storage: {type(exc).__name__}: {exc}") from None
    if settings.server.demo:
        from api.demo import install_demo

        for line in install_demo(services):
            click.echo(line)
    if not services.start_intake():
        click.echo("Chưa chạy tiếp nhận hồ sơ: thiếu PKI của quận hoặc DOORSTEP_PKI_PASSPHRASE.")
    app = create_app(settings, services=services)
    click.echo(f"Doorstep đang chạy tại http://{settings.server.host}:{settings.server.port}/ "
               f"(OpenAPI: /schema, /health, /metrics)")
    try:
        # Devices on slow links pause between requests of one session; uvicorn's default
        # 5 s keep-alive closes connections they are about to reuse (a request lost on a
        # closed socket), so keep idle connections as long as common proxies do.
        uvicorn.run(app, host=settings.server.host, port=settings.server.port,
                    log_level="info", timeout_keep_alive=75)
    finally:
        services.close()
