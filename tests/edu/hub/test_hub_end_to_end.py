"""A hub served by waitress on loopback and 11 homes, each on its own instance and database.

The homes are rows in their own SQLite files (or PostgreSQL databases in that mode); they
talk to the hub over real HTTP through `edu.community.link`, as `edu community` does.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from home_fixtures import FAN_MODEL, SECRETS, LocalHome, make_home
from hub_fixtures import LiveHub
from secret_fixtures import shows

from edu.community import link as community
from edu.community.link import CommunityError
from edu.hub import store
from edu.hub.protocol import SIGNATURE_HEADER, new_key, sign

pytestmark = pytest.mark.slow


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[list[LocalHome]]:
    # ten homes use natural wind, one (the last) does not; none uses the buzzer
    built = [make_home(tmp_path, n, ("natural-wind", "oscillation")) for n in range(10)]
    built.append(make_home(tmp_path, 10, ("oscillation",)))
    yield built
    for home in built:
        home.close()


def post(url: str, body: bytes, signature: str) -> tuple[int, dict[str, str]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310  (a loopback http URL)
        url, data=body, headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_homes_join_send_and_learn_from_each_other_only_past_k(
    live_hub: LiveHub, homes: list[LocalHome]
) -> None:
    for home in homes:
        community.join(home.engine, home.settings, live_hub.url)
        key_file = community.key_path(home.settings)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for home in homes[:9]:
        community.send(home.engine, home.settings)
    adoption = f"{live_hub.url}/hub/v1/adoption?model={FAN_MODEL}"
    assert community.fetch_json(adoption) == []  # 9 homes: below k = 10
    last = homes[10]
    assert community.refresh_adoption(last.engine) == 0
    assert all(item.community is None for item in last.recommendations())

    community.send(homes[9].engine, homes[9].settings)
    community.send(last.engine, last.settings)  # sends, then fetches the published table
    rows = {row["capability"]: row for row in community.fetch_json(adoption)}
    assert rows["natural-wind"] == {"capability": "natural-wind", "homes": 11, "using": 10}
    assert rows["buzzer"] == {"capability": "buzzer", "homes": 11, "using": 0}

    items = {item.capability: item for item in last.recommendations()}
    wind = items["natural-wind"]
    assert wind.community == {"homes": 11, "using": 10}
    assert wind.reason_code == "owners"
    assert wind.reason == "91% of owners of this fan use natural breeze"
    assert items["buzzer"].community == {"homes": 11, "using": 0}
    assert items["buzzer"].reason_code != "owners"
    order = [item.capability for item in last.recommendations()]
    assert order.index("natural-wind") < order.index("buzzer")  # the owners' share ranks it
    assert community.status(last.engine)["last_result"].startswith("sent")


def test_what_a_home_sends_is_its_preview_and_names_nobody(
    live_hub: LiveHub, homes: list[LocalHome]
) -> None:
    home = homes[0]
    with pytest.raises(CommunityError, match="not joined"):
        community.preview(home.engine, home.settings)
    community.join(home.engine, home.settings, live_hub.url)
    body = community.preview(home.engine, home.settings)
    report = json.loads(body)
    assert (
        body == (json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    )
    assert report["models"] == [
        {
            "model": FAN_MODEL,
            "family": "fan",
            "capabilities": ["buzzer", "child-lock", "natural-wind", "oscillation"],
            "in_use": ["natural-wind", "oscillation"],
            "lessons_done": [],
            "lessons_dismissed": [],
        }
    ]
    text = body.decode()
    for secret in (*SECRETS, "100000", "not-a-real-token", "PRIVATE KEY"):
        assert not shows(secret, text), secret
    # the hub accepts exactly these bytes, signed by the home's key
    key = community.load_key(home.settings)
    assert post(f"{live_hub.url}/hub/v1/report", body, sign(key, body))[0] == 200


def test_forged_and_replayed_reports_are_refused_over_http(
    live_hub: LiveHub, homes: list[LocalHome]
) -> None:
    home = homes[0]
    community.join(home.engine, home.settings, live_hub.url)
    body = community.preview(home.engine, home.settings)  # report 1, as sent next
    url = f"{live_hub.url}/hub/v1/report"
    status, answer = post(url, body, sign(new_key(), body))
    assert (status, answer["error"]) == (401, "bad-signature")
    community.send(home.engine, home.settings)
    key = community.load_key(home.settings)
    status, answer = post(url, body, sign(key, body))  # someone replays report 1
    assert (status, answer["error"]) == (409, "replayed")
    assert store.counts(live_hub.engine)["usage"] == 4
    community.send(home.engine, home.settings)  # the home's own next report still goes
    assert community.status(home.engine)["reports_sent"] == 2


def test_leaving_deletes_the_homes_data_and_the_table_drops_below_k(
    live_hub: LiveHub, homes: list[LocalHome]
) -> None:
    for home in homes[:10]:
        community.join(home.engine, home.settings, live_hub.url)
        community.send(home.engine, home.settings)
    adoption = f"{live_hub.url}/hub/v1/adoption?model={FAN_MODEL}"
    assert len(community.fetch_json(adoption)) == 4
    leaver = homes[0]
    community.leave(leaver.engine, leaver.settings)
    assert store.counts(live_hub.engine) == {"homes": 9, "usage": 36, "lessons": 0}
    assert community.fetch_json(adoption) == []
    assert not community.key_path(leaver.settings).exists()
    assert community.status(leaver.engine)["joined"] is False
    assert all(item.community is None for item in leaver.recommendations())
    with pytest.raises(CommunityError, match="not joined"):
        community.send(leaver.engine, leaver.settings)


def test_an_unreachable_hub_leaves_everything_working(
    tmp_path: Path, homes: list[LocalHome]
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = homes[0]
    before = [item.lesson for item in home.recommendations()]
    with pytest.raises(CommunityError, match="cannot reach the hub"):
        community.join(home.engine, home.settings, f"http://127.0.0.1:{port}")
    assert community.status(home.engine)["joined"] is False
    assert [item.lesson for item in home.recommendations()] == before
    with pytest.raises(CommunityError, match="hub address"):
        community.join(home.engine, home.settings, "file:///etc/passwd")


def test_every_hub_page_and_api_get_and_its_database_hold_nothing_private(
    live_hub: LiveHub, homes: list[LocalHome]
) -> None:
    import re
    import urllib.error
    import urllib.request

    for home in homes:
        community.join(home.engine, home.settings, live_hub.url)
        community.send(home.engine, home.settings)
    private = (*SECRETS, "not-a-real-token", "PRIVATE KEY", "127.0.0.1")
    pages: dict[str, str] = {}
    for rule in live_hub.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", FAN_MODEL, rule.rule)
        url = f"{live_hub.url}{path}?model={FAN_MODEL}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
                pages[path] = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:  # a 4xx answer is walked too
            pages[path] = exc.read().decode("utf-8", "replace")
    assert len(pages) >= 5 and any("natural-wind" in text for text in pages.values())
    for path, text in pages.items():
        found = [secret for secret in private if secret in text]
        did = re.search(r"\b1000(?:0\d|10)\b", text)  # the homes' device ids, 100000-100010
        assert found == [] and did is None, (path, found)
    # nor does the hub keep any of it, nor the senders' address: every row of every table
    from sqlalchemy import MetaData, select

    tables = MetaData()
    tables.reflect(live_hub.engine)
    with live_hub.engine.connect() as connection:
        rows = [
            repr(row) for table in tables.sorted_tables for row in connection.execute(select(table))
        ]
    assert len(rows) > 11
    kept = "\n".join(rows)
    for secret in private:
        assert secret not in kept, secret
