"""`doorstep replicate SOURCE TARGET`: the replicator on the command line.

A location is an `http(s)://` URL (credentials in it, or `--user`, or `--bearer`) or a
local database path. A `rich` progress bar shows on a terminal; the end is one summary
line (documents read, written, failed, seconds). Exit 0 when everything was written;
1 when the replication stopped with an error; 2 when some documents were refused.
User-facing text is Vietnamese; credentials never appear in any message.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from sync.errors import DocumentError, Forbidden, Unauthorized
from sync.peers import Peer, open_peer, strip_credentials
from sync.replicator import Progress as ReplicationProgress
from sync.replicator import Replication, ReplicationOptions, ReplicationSummary

EXIT_ERROR = 1
EXIT_REFUSED = 2


def _parse_selector(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"không phải JSON hợp lệ: {exc.msg} (cột {exc.colno})") from exc
    if not isinstance(value, dict):
        raise click.BadParameter("selector phải là một đối tượng JSON, ví dụ {\"type\": \"visit\"}")
    return value


def _credentials(user: str | None) -> tuple[str | None, str | None]:
    if user is None:
        return None, None
    name, sep, password = user.partition(":")
    if sep:
        return name, password
    env = os.environ.get("DOORSTEP_PASSWORD")
    if env is not None:
        return name, env
    if sys.stdin.isatty():
        return name, click.prompt(f"Mật khẩu cho {name}", hide_input=True)
    return name, None


def _summary_line(s: ReplicationSummary) -> str:
    return (
        f"{strip_credentials(s.source)} → {strip_credentials(s.target)}: "
        f"đã đọc {s.docs_read} tài liệu, đã ghi {s.docs_written}, lỗi {s.doc_write_failures}, "
        f"{s.seconds:.1f} giây"
    )


def _explain(exc: BaseException) -> str:
    if isinstance(exc, Unauthorized):
        return f"Không được phép (401): kiểm tra tên đăng nhập, mật khẩu hoặc token. {exc.reason}"
    if isinstance(exc, Forbidden):
        return f"Bị từ chối (403): tài khoản không có quyền này. {exc.reason}"
    if isinstance(exc, DocumentError):
        return f"Đồng bộ thất bại ({exc.error}): {exc.reason}"
    return f"Đồng bộ thất bại: {strip_credentials(str(exc))}"


class SyncProgressBar:
    """A rich progress bar on `console` fed by replication events; callers show it only on
    a terminal. Thread-safe: parallel jobs report to one bar. Also used by `doorstep field`.
    """

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]Đồng bộ[/bold]"), BarColumn(),
            TextColumn("{task.completed} thay đổi · {task.fields[written]} đã ghi"),
            TimeElapsedColumn(), console=console, transient=True,
        )
        self._task = self._progress.add_task("sync", total=None, written=0)
        self._lock = threading.Lock()

    def __enter__(self) -> SyncProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, event: ReplicationProgress) -> None:
        with self._lock:
            self._progress.update(self._task, completed=event.changes_seen,
                                  total=event.estimated_total, written=event.docs_written)


def _run(jobs: list[Replication], stop: threading.Event) -> list[ReplicationSummary]:
    """Run the jobs in threads so Ctrl-C can ask them to stop and still get summaries (a
    second Ctrl-C aborts)."""
    results: list[ReplicationSummary | None] = [None] * len(jobs)
    errors: list[BaseException] = []
    done = [threading.Event() for _ in jobs]

    def work(index: int, job: Replication) -> None:
        try:
            results[index] = job.run()
        except BaseException as exc:
            errors.append(exc)
            stop.set()
        finally:
            done[index].set()

    def wait_for_all() -> None:
        # Events, not Thread.join: a join interrupted by Ctrl-C can later return before the
        # thread has ended, and the summaries would be lost.
        for event in done:
            while not event.wait(0.2):
                pass

    for index, job in enumerate(jobs):
        threading.Thread(target=work, args=(index, job), daemon=True).start()
    try:
        wait_for_all()
    except KeyboardInterrupt:
        stop.set()
        click.echo("Đang dừng: ghi điểm dừng rồi thoát (Ctrl-C lần nữa để thoát ngay)…", err=True)
        wait_for_all()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


@click.command("replicate")
@click.argument("source")
@click.argument("target")
@click.option("--continuous", is_flag=True, help="Keep following the source's changes.")
@click.option("--two-way", is_flag=True, help="Also replicate TARGET back into SOURCE.")
@click.option("--doc-ids", help="Only these documents (comma-separated ids).")
@click.option("--selector", "selector_text", help="Only documents matching this Mango selector.")
@click.option("--create-target", is_flag=True, help="Create the target database if missing.")
@click.option("--checkpoint-target-only", is_flag=True,
              help="Write checkpoints on the target only (read-only sources).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option("--user", help="USER or USER:PASSWORD for http(s) peers "
              "(password from DOORSTEP_PASSWORD or a prompt).")
@click.option("--bearer", metavar="TOKEN", help="Bearer token for http(s) peers.")
def replicate(
    source: str, target: str, continuous: bool, two_way: bool, doc_ids: str | None,
    selector_text: str | None, create_target: bool, checkpoint_target_only: bool,
    batch_size: int, user: str | None, bearer: str | None,
) -> None:
    """Replicate SOURCE into TARGET (each an http(s):// URL or a local database path)."""
    selector = _parse_selector(selector_text)
    ids = tuple(i.strip() for i in doc_ids.split(",") if i.strip()) if doc_ids else None
    try:
        options = ReplicationOptions(
            continuous=continuous, doc_ids=ids, selector=selector, create_target=create_target,
            checkpoint_target_only=checkpoint_target_only, batch_size=batch_size,
        )
    except (ValueError, DocumentError) as exc:
        reason = exc.reason if isinstance(exc, DocumentError) else str(exc)
        raise click.UsageError(f"Tuỳ chọn không hợp lệ: {reason}") from exc
    name, password = _credentials(user)
    console = Console(stderr=True)
    try:
        a: Peer = open_peer(source, user=name, password=password, bearer=bearer)
        b: Peer = open_peer(target, user=name, password=password, bearer=bearer)
    except DocumentError as exc:
        raise click.UsageError(_explain(exc)) from exc
    stop = threading.Event()
    bar = SyncProgressBar(console) if console.is_terminal else None
    jobs = [Replication(a, b, options, on_progress=bar, stop=stop)]
    if two_way:
        back = ReplicationOptions(**{**{f: getattr(options, f) for f in
                                        ReplicationOptions.__dataclass_fields__},
                                     "create_target": False})
        jobs.append(Replication(b, a, back, on_progress=bar, stop=stop))
    try:
        if bar is not None:
            with bar:
                summaries = _run(jobs, stop)
        else:
            summaries = _run(jobs, stop)
    except Exception as exc:
        click.echo(_explain(exc), err=True)
        sys.exit(EXIT_ERROR)
    finally:
        a.close()
        b.close()
    for summary in summaries:
        click.echo(_summary_line(summary))
        for failure in summary.failures[:20]:
            click.echo(f"  từ chối {failure.id} {failure.rev or ''}: {failure.error} "
                       f"{failure.reason}", err=True)
    if any(not s.ok for s in summaries):
        sys.exit(EXIT_REFUSED)
