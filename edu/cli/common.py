"""What every `edu` command shares: one-line errors, the lazy context, output and flags."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])


class DatabaseError(OSError):
    """The database cannot be opened or brought to the current schema."""


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)


def fail(message: str) -> None:
    """Print a one-line error and exit non-zero."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def expected_errors(fn: F) -> F:
    """Turn expected failures into one-line errors, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except EXPECTED_ERRORS as exc:
            fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    return wrapper  # type: ignore[return-value]


class Context:
    """What every command shares: settings and, lazily, the database and inventory."""

    def __init__(self, **overrides: Any) -> None:
        self.overrides = overrides
        self._settings: Any = None
        self._engine: Any = None

    @property
    def settings(self) -> Any:
        if self._settings is None:
            from edu.config import Settings

            self._settings = Settings.from_env(**self.overrides)
        return self._settings

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from sqlalchemy.exc import DBAPIError, SQLAlchemyError

            from edu.schema import create_schema, make_engine

            self.settings.ensure_instance()
            try:
                engine = make_engine(self.settings.database_url)
                create_schema(engine)
            except SQLAlchemyError as exc:  # a bad URL, a server away, a file locked too long
                reason = exc.orig if isinstance(exc, DBAPIError) else exc
                raise DatabaseError(f"cannot open the database: {reason}") from None
            self._engine = engine
        return self._engine

    def close(self) -> None:
        """Release the database connections (at the end of the command)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def inventory(self) -> Any:
        from edu.services.inventory import Inventory

        return Inventory.open(self.engine, self.settings)


pass_ctx = click.make_pass_decorator(Context)


def emit(data: Any, as_json: bool, render: Callable[[Any], object]) -> None:
    """Print *data* as JSON or through *render*."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        render(data)


def lines(template: Callable[[dict[str, Any]], str]) -> Callable[[list[dict[str, Any]]], None]:
    """Return a renderer that prints one line per row."""

    def render(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            click.echo(template(row))

    return render


class ProgressBar:
    """A progress bar on stderr, drawn once its total is known, only on a terminal."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet or not sys.stderr.isatty()
        self._bar: Any = None

    def start(self, total: int) -> None:
        """Draw the bar for *total* steps (nothing for none)."""
        if not self.quiet and total and self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int) -> None:
        """Move the bar on by *n* steps."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextmanager
def progress_bar(label: str, quiet: bool, total: int | None = None) -> Iterator[ProgressBar]:
    """Yield a ProgressBar (started when *total* is given); it is closed on the way out."""
    bar = ProgressBar(label, quiet)
    if total is not None:
        bar.start(total)
    try:
        yield bar
    finally:
        bar.close()


def fleet_options(fn: F) -> F:
    """The simulated fleet's flags shared by `simulate` and `demo`."""
    fn = click.option(
        "--base", default="127.0.0.10", show_default=True, help="First loopback address to bind."
    )(fn)
    return click.option(
        "--fleet",
        "fleet_name",
        default="household",
        show_default=True,
        help="A shipped fleet name or a fleet YAML file.",
    )(fn)


allow_public_option = click.option(
    "--allow-public",
    is_flag=True,
    help="Also search public addresses (only private, link-local, shared and loopback by default).",
)


def network_options(fn: F) -> F:
    """The discovery flags shared by `discover` and `scan`."""
    options = [
        click.option(
            "--network",
            "networks",
            multiple=True,
            help="CIDR range to sweep with unicast hellos (repeatable; default EDU_NETWORKS).",
        ),
        click.option(
            "--ip", "ips", multiple=True, help="A device address to probe directly (repeatable)."
        ),
        click.option(
            "--broadcast", is_flag=True, help="Also send a broadcast hello on the local network."
        ),
        click.option("--mdns", is_flag=True, help="Also browse mDNS for _miio._udp.local."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.05, max=60),
            default=None,
            help="Seconds to wait for hello replies (default EDU_DISCOVERY_TIMEOUT or 2).",
        ),
        allow_public_option,
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def ip_order(ip: str | None) -> tuple[int, ...]:
    """Sort key for addresses in numeric order (an unknown address first)."""
    return tuple(int(part) for part in ip.split(".")) if ip else (0,)


def render_devices(rows: list[dict[str, Any]]) -> None:
    """Print devices as a table a person can read."""
    click.echo(f"{len(rows)} device(s)")
    for row in rows:
        caps = ", ".join(row["capabilities"]) or "-"
        click.echo(
            f"  {row['ip'] or '?':<15} {row['model'] or 'unknown model':<26} {row['family'] or '-':<12} "
            f"{row['status']:<12} {len(row['capabilities'])} features"
        )
        if row["detail"]:
            click.echo(f"      {row['detail']}")
        if row["capabilities"]:
            click.echo(f"      {caps}")


# -- serving the page ----------------------------------------------------------------------

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000


def is_loopback(host: str) -> bool:
    """Tell whether *host* is a loopback address (or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_bind(bind: str) -> tuple[str, int]:
    """Split EDU_BIND ("host:port") into its parts."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"EDU_BIND must look like 127.0.0.1:5000, not {bind!r}")
    return host, int(port)


def check_port_free(host: str, port: int) -> None:
    """Fail early, in one line, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise ValueError(
                f"port {port} on {host} is in use (choose another with --port)"
            ) from None


def check_demo(base: str, host: str, port: int, *, serve: bool) -> None:
    """Check a demo's fleet address, then where it will serve, before anything starts."""
    from edu.simulated.fleet import check_loopback

    check_loopback(base)
    if serve:
        if not is_loopback(host):
            fail("the demo serves on a loopback address only (127.0.0.1)")
        check_port_free(host, port)


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let this process's threads share *arenas* glibc malloc arenas; return whether it did.

    glibc gives each new thread an arena of its own (up to eight per core), and each keeps the
    memory freed in it: a server's dozen mostly idle threads held megabytes that way. Python's
    threads take turns anyway. Nothing changes on another C library, or when MALLOC_ARENA_MAX
    is set (the person's own choice stands). Call it before the threads start.
    """
    import ctypes
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def settle_heap() -> None:
    """Leave what start-up made out of the garbage collector's full passes.

    The modules, the app, its templates and translations live as long as the process, and
    they are most of the objects a full collection walks: at 10,000 devices that was a
    tenth of a second, in the middle of whichever page asked for memory at that moment.
    Frozen, they are never walked again (CPython's ``gc.freeze``); what the pages make
    afterwards is collected as before. Call it once the app is built, before serving.
    """
    import gc

    gc.collect()
    gc.freeze()


def run_server(app: Flask, host: str, port: int, *, threads: int = 8) -> None:
    """Serve *app* with waitress and this process's bid for the background jobs, until Ctrl-C."""
    from waitress import serve

    from edu.jobs import start_background, stop_background

    limit_malloc_arenas()
    settle_heap()
    inventory = app.extensions["edu.inventory"]
    # polls, tips, reverts, store timeouts, backups and community reports; with several
    # processes on one database, the lease holder only. The app's inventory and demo desk: one handle and throttle per device.
    start_background(
        app.extensions["edu.engine"],
        inventory.settings,
        inventory=inventory,
        desk=app.extensions["edu.store.desk"],
    )
    try:
        serve(app, host=host, port=port, threads=threads, ident="Feature Coach", _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_background()  # waits for a job under way (a revert or a demo reset on a device)
