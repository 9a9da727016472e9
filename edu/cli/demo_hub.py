"""`edu demo --hub`: a community hub beside the demo household, with a few hundred simulated homes.

The hub is the real one (`edu hub serve`'s app and waitress) on its own instance folder and
SQLite file, marked simulated so that every hub page and the household's Community page
say so. The made-up homes join and report over its signed HTTP API; then the demo household
joins and sends as `edu community join` and `send` do, and fetches the published table.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from edu.cli.common import Context

logger = logging.getLogger(__name__)

DEFAULT_HOMES = 300
FOLDER = "demo-hub"


@dataclass(frozen=True)
class DemoHub:
    """The running simulated hub: where it is, how many homes it holds, how long seeding took."""

    url: str
    homes: int
    seed_seconds: float
    published: int  # pairs of the household's models the household fetched

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": f"{self.url}/hub/",
            "homes": self.homes,
            "simulated": True,
            "seed_seconds": round(self.seed_seconds, 2),
            "published": self.published,
        }


def check_hub_port(host: str, port: int, page_port: int) -> None:
    """Refuse, in one line, a hub port that is the page's or is taken."""
    from edu.cli.common import check_port_free

    if port == page_port:
        raise ValueError(f"the hub and the page cannot share port {port} (choose --hub-port)")
    try:
        check_port_free(host, port)
    except ValueError:
        raise ValueError(
            f"port {port} on {host} is in use (choose another with --hub-port)"
        ) from None


@contextmanager
def demo_hub(
    ctx: Context, root: Path, host: str, port: int, homes: int, *, quiet: bool = False
) -> Iterator[DemoHub]:
    """Serve a simulated hub from *root*/demo-hub, seed it, join the household; stop it after."""
    from edu.community import link as community
    from edu.config import Settings
    from edu.hub import HubSettings
    from edu.hub.serving import HubServer, build_hub
    from edu.simulated.community import SENDERS, fleet_models, seed_hub, simulated_homes

    folder = root / FOLDER
    shutil.rmtree(folder, ignore_errors=True)  # a fresh hub on each run, like the household
    # recounted before every read: a few hundred homes cost nothing to count, and the
    # household's own report shows at once
    hub_settings = replace(HubSettings.from_env(), simulated=True, refresh_seconds=0)
    # its own SQLite file, whatever EDU_DATABASE_URL says: the demo's hub is a try-out
    settings = Settings.from_env({"EDU_INSTANCE": str(folder)})
    # a few threads more than the homes sending at once: none of them waits in the queue
    server = HubServer(build_hub(settings, hub_settings), host, port, threads=SENDERS + 4).start()
    try:
        made = simulated_homes(fleet_models(ctx.engine), homes)
        if not quiet:
            click.echo(
                f"Simulating {homes} homes reporting to the hub at {server.url} ...", err=True
            )
        started = time.perf_counter()
        seed_hub(server.url, made)
        seconds = time.perf_counter() - started
        logger.info("seeded the simulated hub with %d homes in %.2f s", homes, seconds)
        community.join(ctx.engine, ctx.settings, server.url)
        community.send(ctx.engine, ctx.settings)  # then fetches the published table
        published = int(community.status(ctx.engine)["published"])
        yield DemoHub(server.url, homes, seconds, published)
    finally:
        server.stop()


def announce(hub: DemoHub) -> None:
    """Print where the simulated hub is, beside the household's address."""
    click.echo(f"Community hub (SIMULATED: {hub.homes} made-up homes): {hub.url}/hub/")
    click.echo(
        f"  seeded in {hub.seed_seconds:.1f} s; {hub.published} published feature(s) "
        "of this home's models reach its recommendations"
    )
