"""`edu demo --hub`: a hub of simulated homes beside the demo household, said to be simulated."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_fixtures import Clock, Home, fan, make_hub
from process_helpers import free_port, get_when_up, read_json_document

from edu.catalogue import capability_titles
from edu.cli import main
from edu.cli.common import check_port_free
from edu.simulated.community import TYPICAL, adoption_rate, simulated_homes

EDU = str(Path(sys.executable).parent / "edu")
FAN = {"model": "zhimi.fan.za4", "family": "fan", "capabilities": ["buzzer", "natural-wind"]}
LAMP = {"model": "yeelink.light.color1", "family": "light", "capabilities": ["brightness"]}


class Browser:
    """A person at the demo's page over real HTTP: cookies kept, signed in with a PIN."""

    def __init__(self, port: int) -> None:
        self.root = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.root + path, timeout=20) as response:
            return str(response.read().decode())

    def sign_in(self, name: str, pin: str) -> None:
        people = self.get("/signin")
        link = re.search(
            rf'href="([^"]+)"[^>]*>\s*<span[^>]*>[^<]*</span>\s*<span class="who">{name}<', people
        )
        assert link is not None, people[-2000:]
        form = self.get(link.group(1))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        body = urllib.parse.urlencode({"csrf_token": csrf.group(1), "pin": pin, "next": ""})
        with self.opener.open(self.root + link.group(1), body.encode(), timeout=20) as answer:
            assert answer.status == 200 and "/signin" not in answer.url


@pytest.mark.slow
def test_the_demo_hub_seeds_simulated_homes_the_household_learns_from_them_and_pages_say_so(
    tmp_path: Path,
) -> None:
    port, hub_port = free_port(), free_port()
    env = {
        **os.environ,
        "EDU_DISCOVERY_TIMEOUT": "0.8",
        "EDU_DEVICE_TIMEOUT": "0.5",
        "EDU_HUB_MIN_HOMES": "3",  # 12 homes own each model about 5 times
    }
    env.pop("EDU_SECRET_KEY", None)
    command = [EDU, "-vv", "--instance", str(tmp_path), "demo", "--hub", "--hub-homes", "12"]
    command += ["--port", str(port), "--hub-port", str(hub_port), "--base", "127.0.0.10", "--json"]
    log = tmp_path / "stderr.txt"  # a file: a full pipe nobody reads would stall the demo
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, env=env, text=True
        ) as process,
    ):
        try:
            printed = read_json_document(process)
            hub = printed["hub"]
            assert hub["url"] == f"http://127.0.0.1:{hub_port}/hub/"
            assert hub["homes"] == 12 and hub["simulated"] is True and hub["published"] > 0

            # every hub page carries the banner, in English and Chinese
            status, index = get_when_up(hub_port, "/hub/", time.monotonic() + 15)
            assert status == 200 and 'id="simulated-banner"' in index
            assert "made up by <code>edu demo --hub</code>" in index and "模拟的社区中心" in index
            model_page = index.split('href="/hub/models/', 1)[1].split('"', 1)[0]
            status, page = get_when_up(hub_port, f"/hub/models/{model_page}", time.monotonic() + 5)
            assert status == 200 and 'id="simulated-banner"' in page and "<svg" in page

            # the household's recommendations quote exactly the hub's published figures
            pins = {p["name"]: p["pin"] for p in printed["people"]}
            leo = Browser(port)
            leo.sign_in("Leo", pins["Leo"])
            items = json.loads(leo.get("/api/v1/recommendations?limit=200"))
            quoted = [i for i in items if i["reason_code"] == "owners"]
            assert quoted, "no recommendation quotes the simulated owners"
            models = {d["did"]: d["model"] for d in printed["devices"]}
            for item in quoted:
                query = urllib.parse.urlencode({"model": models[item["device"]]})
                _, table = get_when_up(hub_port, f"/hub/v1/adoption?{query}", time.monotonic() + 5)
                row = next(r for r in json.loads(table) if r["capability"] == item["capability"])
                assert item["community"] == {"homes": row["homes"], "using": row["using"]}
                percent = round(100 * row["using"] / row["homes"])
                assert item["reason"].startswith(f"{percent}% of owners of this ")

            # the household's pages: the reason, marked simulated; the Community page says so
            home = leo.get("/")
            assert "% of owners of this" in home and "simulated homes" in home
            mia = Browser(port)
            mia.sign_in("Mia", pins["Mia"])
            page = mia.get("/community/")
            assert 'id="simulated-hub"' in page and "simulated hub" in page
            assert f"http://127.0.0.1:{hub_port}" in page
            ana = Browser(port)  # reads Chinese
            ana.sign_in("Ana", pins["Ana"])
            assert "模拟的家庭" in ana.get("/")  # "simulated homes"
            key = (tmp_path / "demo" / "community-key.pem").read_text().splitlines()[1]
        finally:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            process.communicate(timeout=30)
    err = log.read_text()
    assert process.returncode == 0, err[-2000:]
    assert "seeded the simulated hub with 12 homes" in err  # -vv: every line, masked
    assert key not in err and "PRIVATE KEY" not in err
    assert not any(pin in err.split() for pin in pins.values())
    for taken in (port, hub_port):  # both servers let go of their ports
        check_port_free("127.0.0.1", taken)
    assert (tmp_path / "demo-hub" / "feature-coach.sqlite3").exists()


def test_the_hub_port_is_checked_free_first_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        hub_port = taken.getsockname()[1]
        command = ["--instance", str(tmp_path), "demo", "--hub", "--port", str(free_port())]
        result = CliRunner().invoke(main, [*command, "--hub-port", str(hub_port)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: port {hub_port} on 127.0.0.1 is in use (choose another with --hub-port)\n"
    )
    assert not (tmp_path / "demo").exists()  # refused before anything started


@pytest.mark.parametrize(
    "options",
    [("--store",), ("--no-serve",), ("--port", "5391", "--hub-port", "5391")],
    ids=["store", "no-serve", "same-port"],
)
def test_the_hub_option_refuses_what_it_cannot_go_with(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(main, ["--instance", str(tmp_path), "demo", "--hub", *options])
    assert result.exit_code == 1 and result.output.startswith("error: ")
    assert result.output.count("\n") == 1


def test_simulated_homes_are_drawn_the_same_way_each_run_with_rates_of_their_own() -> None:
    first = simulated_homes([FAN, LAMP], 300)
    again = simulated_homes([FAN, LAMP], 300)
    assert [h.models for h in first] == [h.models for h in again]
    assert len({h.key.public_key().public_bytes_raw() for h in first}) == 300  # a key each
    assert all(h.models for h in first)
    owners = [h for h in first if any(m["model"] == FAN["model"] for m in h.models)]
    assert 100 < len(owners) < 200  # about 45% of the homes own the fan
    using = {
        c: sum(c in m["in_use"] for h in owners for m in h.models if m["model"] == FAN["model"])
        for c in FAN["capabilities"]
    }
    for capability, count in using.items():
        assert abs(count / len(owners) - adoption_rate(FAN["model"], capability)) < 0.15
    rates = {adoption_rate(m["model"], c) for m in (FAN, LAMP) for c in m["capabilities"]}
    assert len(rates) == 3 and all(0.02 <= r <= 0.95 for r in rates)
    # the guessed shares name real features, and a lamp's brightness beats a fan's beeps
    assert set(TYPICAL) <= set(capability_titles())
    assert adoption_rate(LAMP["model"], "brightness") > adoption_rate(FAN["model"], "buzzer")
    with pytest.raises(ValueError, match="no models"):
        simulated_homes([], 3)


@pytest.mark.parametrize("simulated", [True, False])
def test_a_hub_says_on_every_page_and_at_join_whether_its_homes_are_simulated(
    tmp_path: Path, simulated: bool
) -> None:
    app = make_hub(tmp_path / "hub", min_homes=1, simulated=simulated)
    try:
        client = app.test_client()
        home = Home(client, Clock())
        answer = home.join()
        assert answer.status_code == 201 and answer.get_json()["simulated"] is simulated
        assert home.report([fan()]).status_code == 200
        pages = ("/hub/", "/hub/models/zhimi.fan.za4", "/hub/models/no.such.model")
        for path in (*pages, "/hub/shops/", "/hub/moderation/signin"):
            page = client.get(path).get_data(as_text=True)
            assert ('id="simulated-banner"' in page) is simulated, path
    finally:
        app.extensions["hub.engine"].dispose()
