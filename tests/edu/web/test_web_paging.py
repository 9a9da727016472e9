"""Pages of a household with hundreds of devices: the devices list, home and progress."""

from __future__ import annotations

import re

from paging_fixtures import DEVICES, BigHousehold
from sqlmodel import Session, col, select

from edu.db import key, unit_of_work
from edu.models import Device, DeviceCapability, FeatureUse

_DID = re.compile(r'data-did="(\d+)"')
_STATUS_RANK = {"online": 0, "offline": 3}


def _dids(page: str) -> list[int]:
    return [int(d) for d in _DID.findall(page)]


def _devices(big: BigHousehold) -> list[Device]:
    with Session(big.app.extensions["edu.engine"]) as session:
        return list(session.exec(select(Device).order_by(col(Device.did))))


def _listed_order(devices: list[Device]) -> list[int]:
    """The devices page's order: working devices first, then by name, then by device id."""
    ranked = sorted(devices, key=lambda d: (_STATUS_RANK[d.status], d.name.lower(), d.did))
    return [d.did for d in ranked]


def test_devices_page_shows_50_at_a_time_with_previous_and_next_links(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    order = _listed_order(_devices(big_household))
    first = web.get("/devices/").get_data(as_text=True)
    assert _dids(first) == order[:50]
    assert f"{DEVICES} devices" in first and "Page 1 of 5" in first
    assert 'rel="next" href="/devices/?page=2#list"' in first and 'rel="prev"' not in first
    second = web.get("/devices/?page=2").get_data(as_text=True)
    assert _dids(second) == order[50:100]
    assert 'rel="prev" href="/devices/?page=1#list"' in second
    assert 'rel="next" href="/devices/?page=3#list"' in second
    last = web.get("/devices/?page=5").get_data(as_text=True)
    assert _dids(last) == order[200:] and 'rel="next"' not in last
    assert "Showing 201–230 of 230" in last
    assert _dids(web.get("/devices/?page=999").get_data(as_text=True)) == order[200:]
    assert _dids(web.get("/devices/?page=x").get_data(as_text=True)) == order[:50]
    seen = [d for n in range(1, 6) for d in _dids(web.get(f"/devices/?page={n}").get_data(True))]
    assert sorted(seen) == big_household.dids  # every device once


def test_the_scan_still_shows_its_progress_on_every_page(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    for url in ("/devices/", "/devices/?page=3", "/devices/?q=fan&status=online"):
        page = web.get(url).get_data(as_text=True)
        assert 'data-status-url="/devices/scan/status"' in page and 'class="scan-status"' in page
    assert web.get("/devices/scan/status").get_json()["phase"] == "idle"


def test_the_filter_finds_devices_by_name_model_or_status_across_pages(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    devices = _devices(big_household)

    def found(query: str) -> tuple[list[int], str]:
        page = web.get(f"/devices/?{query}").get_data(as_text=True)
        return sorted(_dids(page)), page

    fans, page = found("q=FAN+2")
    assert fans == [d.did for d in devices if "fan 2" in d.name] and 0 < len(fans) < 50
    assert f"{len(fans)} devices match." in page and 'value="FAN 2"' in page
    heaters, _ = found("q=heater.NB1")
    assert heaters == [d.did for d in devices if d.model == "zhimi.heater.nb1"] and heaters
    offline, page = found("status=offline")
    assert offline == [d.did for d in devices if d.status == "offline"] and offline
    assert '<option value="offline" selected>' in page
    purifiers, _ = found("q=purifier&status=online")
    assert purifiers == [
        d.did for d in devices if d.family == "air-purifier" and d.status == "online"
    ]
    # the filter travels with the page links
    online = [d.did for d in devices if d.status == "online"]
    first, page = found("status=online")
    assert 'href="/devices/?page=2&amp;status=online#list"' in page
    rest = [found(f"status=online&page={n}")[0] for n in range(2, 6)]
    assert sorted(first + [did for dids in rest for did in dids]) == online


def test_the_filter_takes_text_literally_and_shows_it_escaped(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    for text in ("%", "_", "fan%", "<script>alert(1)</script>"):
        page = web.get("/devices/", query_string={"q": text}).get_data(as_text=True)
        assert _dids(page) == [] and "No device matches." in page, text
        assert "<script>alert" not in page
    unknown = web.get("/devices/?status=sleeping").get_data(as_text=True)
    assert len(_dids(unknown)) == 50  # a status it does not know is no filter


def test_only_an_admin_sees_the_devices_page(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Leo")
    assert web.get("/devices/?page=2").status_code == 403


_CARD = re.compile(r'class="card device-progress" id="device-(\d+)"')


def _cards(page: str) -> list[int]:
    return [int(d) for d in _CARD.findall(page)]


def _use_features(big: BigHousehold, dids: list[int]) -> None:
    """The devices themselves show every feature of *dids* in use."""
    engine = big.app.extensions["edu.engine"]
    with unit_of_work(engine) as session:
        for device in session.exec(select(Device).where(col(Device.did).in_(dids))):
            for cap in session.exec(
                select(DeviceCapability).where(
                    DeviceCapability.device_id == device.id, col(DeviceCapability.mapped)
                )
            ):
                session.add(
                    FeatureUse(
                        household_id=device.household_id,
                        device_id=key(device),
                        capability=cap.capability,
                        uses=1,
                    )
                )


def test_home_shows_24_devices_with_the_most_left_to_learn_and_links_to_all(
    big_household: BigHousehold,
) -> None:
    learned = big_household.dids[:30]
    _use_features(big_household, learned)
    web = big_household.signed_in("Admin")
    page = web.get("/").get_data(as_text=True)
    shown = _cards(page)
    assert len(shown) == 24 and not set(shown) & set(learned)
    names = re.findall(
        r'id="device-\d+">\s*<div class="device-head">.*?<h3>([^<]+)</h3>', page, re.S
    )
    assert len(names) == 24 and names == sorted(names, key=str.lower)  # all equal: by name
    assert "Learn next" in page and 'href="/home/devices">See all 230 devices</a>' in page


def test_all_my_devices_come_in_pages_of_24_by_name(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    pages = [web.get(f"/home/devices?page={n}").get_data(as_text=True) for n in range(1, 11)]
    assert [len(_cards(p)) for p in pages] == [24] * 9 + [14]
    assert sorted(d for p in pages for d in _cards(p)) == big_household.dids
    assert 'rel="next" href="/home/devices?page=2"' in pages[0] and 'rel="prev"' not in pages[0]
    assert 'rel="prev" href="/home/devices?page=9"' in pages[9] and 'rel="next"' not in pages[9]
    assert _cards(web.get("/home/devices?page=11").get_data(as_text=True)) == _cards(pages[9])


def test_a_member_sees_only_their_own_devices_on_home_and_every_page(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Leo")
    mine = big_household.member_dids
    home = web.get("/").get_data(as_text=True)
    assert len(_cards(home)) == 24 and set(_cards(home)) <= set(mine)
    assert f"See all {len(mine)} devices" in home
    pages = [web.get(f"/home/devices?page={n}").get_data(as_text=True) for n in range(1, 5)]
    assert [len(_cards(p)) for p in pages] == [24, 24, 24, 5]
    assert sorted(d for p in pages for d in _cards(p)) == mine


def _adoption_cards(page: str) -> list[int]:
    return [int(d) for d in re.findall(r'<li class="card" data-did="(\d+)">', page)]


def test_household_progress_shows_24_devices_a_page_by_name(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    by_name = [d.did for d in sorted(_devices(big_household), key=lambda d: (d.name, d.did))]
    pages = [web.get(f"/progress?page={n}").get_data(as_text=True) for n in range(1, 11)]
    assert [_adoption_cards(p) for p in pages] == [by_name[i : i + 24] for i in range(0, 230, 24)]
    assert "Page 1 of 10" in pages[0] and 'rel="next" href="/progress?page=2"' in pages[0]
    assert 'rel="prev" href="/progress?page=9"' in pages[9] and 'rel="next"' not in pages[9]
    assert big_household.signed_in("Leo").get("/progress").status_code == 403


def test_features_nobody_uses_are_summarised_per_feature_not_per_device(
    big_household: BigHousehold,
) -> None:
    devices = _devices(big_household)
    used = {d.id for d in devices if d.family == "fan"}
    _use_features(big_household, [d.did for d in devices if d.id in used])
    with Session(big_household.app.extensions["edu.engine"]) as session:
        caps = session.exec(select(DeviceCapability).where(col(DeviceCapability.mapped))).all()
    by_id = {d.id: d for d in devices}
    unused: dict[str, list[str]] = {}
    for cap in caps:
        if cap.device_id not in used:
            unused.setdefault(cap.capability, []).append(by_id[cap.device_id].name)
    expected = sorted(unused.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    web = big_household.signed_in("Admin")
    page = web.get("/progress").get_data(as_text=True)
    summary = page[page.index('id="nobody-title"') :]
    rows = re.findall(r'<li data-capability="([a-z-]+)">(.*?)</li>', summary)
    assert [cap for cap, _ in rows] == [cap for cap, _ in expected[:12]]
    assert "child-lock" in unused and "child-lock" in dict(rows)  # heaters and humidifiers
    for (_cap, text), (_, names) in zip(rows, expected, strict=False):
        first = ", ".join(sorted(names)[:3])
        assert f"on {len(names)} devices: {first} and {len(names) - 3} more" in text
    assert f"{len(expected) - 12} more features are not used by anyone yet." in summary
