"""Pages of a household with hundreds of devices: the devices list, home and progress."""

from __future__ import annotations

import re

from paging_fixtures import DEVICES, BigHousehold
from sqlmodel import Session, col, select

from edu.models import Device

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
