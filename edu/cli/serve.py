"""`edu serve` and `edu worker`: the household page, and the background jobs on their own."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from edu.cli.common import (
    Context,
    check_port_free,
    expected_errors,
    fail,
    is_loopback,
    pass_ctx,
    run_server,
    split_bind,
)


@click.command()
@click.option("--host", default=None, help="Address to bind (default from EDU_BIND: 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 5000).")
@click.pass_obj
@expected_errors
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the household page (127.0.0.1:5000 unless told otherwise)."""
    from edu import create_app
    from edu.logs import log_to_file

    settings = ctx.settings
    bind_host, bind_port = split_bind(settings.bind)
    host, port = host or bind_host, port or bind_port
    if not is_loopback(host) and not settings.secret_key:
        fail(f"refusing to serve on {host} without a secret: set EDU_SECRET_KEY first")
    check_port_free(host, port)
    log_to_file(settings.instance / "logs")
    app = create_app({"EDU_SETTINGS": settings, "EDU_ENGINE": ctx.engine})
    click.echo(
        f"Feature Coach is at http://{host if is_loopback(host) else '<this computer>'}:{port}/ "
        "(Ctrl-C to stop)",
        err=True,
    )
    run_server(app, host, port)


@click.command("worker")
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.5),
    default=60.0,
    show_default=True,
    help="How long the lease lasts without renewal; another worker takes over after it.",
)
@click.option(
    "--tip-interval",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between tip runs (default EDU_TIP_INTERVAL or 300).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between device poll jobs (default 60; each device keeps its own pace).",
)
@click.option("--owner", default=None, help="A name for this worker in the lease and job history.")
@pass_ctx
@expected_errors
def worker(
    ctx: Context,
    lease_seconds: float,
    tip_interval: float | None,
    poll_interval: float | None,
    owner: str | None,
) -> None:
    """Run the background jobs in the foreground while holding the lease: device polls, tip runs,
    try-it reverts, store-demo timeouts, the nightly backup and the weekly community report."""
    from edu.jobs import Worker
    from edu.logs import log_to_file

    log_to_file(ctx.settings.instance / "logs")
    job_worker = Worker(
        ctx.engine,
        ctx.settings,
        owner=owner,
        lease_seconds=lease_seconds,
        tip_interval=tip_interval,
        poll_interval=poll_interval,
    )
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    job_worker.start()
    click.echo(f"worker {job_worker.owner} started (lease {lease_seconds:g} s)")
    sys.stdout.flush()
    # A short wait, not stop.wait(): Python runs a signal handler only in the main thread,
    # when it next runs; the kernel may hand SIGTERM to another thread, and a main thread
    # blocked in a lock for good would never see it (as Fleet.serve_forever does).
    while not stop.wait(0.5):
        pass
    job_worker.stop()
    click.echo(f"worker {job_worker.owner} stopped")


def register(main: click.Group) -> None:
    """Attach `serve` and `worker` to the main command group."""
    main.add_command(serve)
    main.add_command(worker)
