"""A hub on loopback and 11 shops in store mode, each on its own instance and database.

Ten shops hold a week of demos as rows; one is the shop on the simulated fleet, where staff
run a real demo of the fan and end it with "the customer wants to buy". They all send their
shop reports over real HTTP through `edu.community.link`, as `edu community send` does.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_fixtures import MANAGER, MANAGER_PIN, SHOP, STAFF, STAFF_PIN, Store
from home_fixtures import FAN_MODEL, SECRETS, LocalHome, make_shop
from hub_fixtures import LiveHub
from secret_fixtures import shows

from edu.community import link as community
from edu.hub import shops
from edu.hub.protocol import sign
from edu.store import intent, sessions

pytestmark = pytest.mark.slow

ASKED = "/hub/v1/shops/asked?model=" + FAN_MODEL


@pytest.fixture
def row_shops(tmp_path: Path) -> Iterator[list[LocalHome]]:
    built = [make_shop(tmp_path, n) for n in range(10)]
    yield built
    for shop in built:
        shop.close()


def _asked(hub: LiveHub) -> dict[str, dict[str, int]]:
    return {row.pop("capability"): row for row in community.fetch_json(hub.url + ASKED)}


def test_shops_publish_what_sells_only_past_k_and_a_sale_intent_tap_counts(
    live_hub: LiveHub, row_shops: list[LocalHome], store: Store
) -> None:
    # the shop on the fleet: a real demo of its fan, ended as a sale intent
    did = store.did("Study fan")
    sessions.start(store.desk, store.staff, did)
    sessions.show(store.desk, store.staff, did, "fan-oscillation")
    assert intent.end_with_intent(store.desk, store.staff, did).ok
    live, settings = store.inventory.engine, store.inventory.settings

    for shop in row_shops[:9]:
        community.join(shop.engine, shop.settings, live_hub.url)
        assert community.send(shop.engine, shop.settings)["type"] == "shop-report"
    assert _asked(live_hub) == {}  # 9 shops: below k = 10
    community.join(live, settings, live_hub.url)
    body = community.preview(live, settings)
    sent = json.loads(body)
    assert sent["type"] == "shop-report" and sent["version"] == 1
    assert sent["sent_at"] - sent["since"] == 7 * 24 * 3600
    fan = next(m for m in sent["models"] if m["model"] == FAN_MODEL)
    assert fan["features"] == [
        {"capability": "oscillation", "shown": 1, "demos": 1, "sales": 1, "kiosk": 0}
    ]
    text = body.decode()
    for secret in (SHOP, STAFF, STAFF_PIN, MANAGER, MANAGER_PIN, "PRIVATE KEY", "127.0.0.1"):
        assert not shows(secret, text), secret
    assert not shows(str(did), text) and not [
        d.token for d in store.fleet.devices if d.token in text
    ]
    community.send(live, settings)

    # ten shops now: per row shop, oscillation shown twice in two demos, one sold; natural
    # wind twice in the sold one; child lock read on the kiosk; the old demo and the failed
    # step are not in the week
    assert _asked(live_hub) == {
        "oscillation": {"shops": 10, "shown": 19, "demos": 19, "sales": 10, "kiosk": 0}
    }
    eleventh = row_shops[9]
    community.join(eleventh.engine, eleventh.settings, live_hub.url)
    community.send(eleventh.engine, eleventh.settings)
    assert _asked(live_hub) == {
        "child-lock": {"shops": 10, "shown": 0, "demos": 0, "sales": 0, "kiosk": 10},
        "natural-wind": {"shops": 10, "shown": 20, "demos": 10, "sales": 10, "kiosk": 0},
        "oscillation": {"shops": 11, "shown": 21, "demos": 21, "sales": 11, "kiosk": 0},
    }
    page = _get(f"{live_hub.url}/hub/shops/models/{FAN_MODEL}")
    assert "features customers ask to see" in page and "11 of 21 demos" in page
    assert FAN_MODEL in _get(f"{live_hub.url}/hub/shops/")
    for secret in (*SECRETS, SHOP, STAFF, MANAGER, "not-a-real-token"):
        assert not shows(secret, page), secret

    # the shop on the fleet leaves: its week is deleted, oscillation falls back to ten shops
    before = shops.count(live_hub.engine)
    community.leave(live, settings)
    assert shops.count(live_hub.engine) == before - len(sent["models"])
    assert _asked(live_hub)["oscillation"] == {
        "shops": 10,
        "shown": 20,
        "demos": 20,
        "sales": 10,
        "kiosk": 0,
    }
    # a row shop leaves: natural wind and the kiosk read drop below k
    community.leave(eleventh.engine, eleventh.settings)
    assert _asked(live_hub) == {}
    assert not community.key_path(eleventh.settings).exists()


def test_a_forged_or_replayed_shop_report_is_refused_over_http(
    live_hub: LiveHub, row_shops: list[LocalHome]
) -> None:
    from edu.hub.protocol import new_key

    shop = row_shops[0]
    community.join(shop.engine, shop.settings, live_hub.url)
    body = community.preview(shop.engine, shop.settings)
    url = f"{live_hub.url}/hub/v1/shops/report"
    assert _post(url, body, sign(new_key(), body)) == (401, "bad-signature")
    assert community.send_if_due(shop.engine, shop.settings) == "sent"  # the weekly job
    assert community.send_if_due(shop.engine, shop.settings) == "not due"
    key = community.load_key(shop.settings)
    assert _post(url, body, sign(key, body)) == (409, "replayed")
    assert shops.count(live_hub.engine) == 3


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return response.read().decode()


def _post(url: str, body: bytes, signature: str) -> tuple[int, str]:
    import urllib.error

    from edu.hub.protocol import SIGNATURE_HEADER

    headers = {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["error"]
