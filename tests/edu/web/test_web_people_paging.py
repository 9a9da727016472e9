"""Choosing who uses what in a household with hundreds of devices: a page of devices at a time."""

from __future__ import annotations

import re

from paging_fixtures import DEVICES, BigHousehold
from sqlmodel import Session, col, select
from web_fixtures import Web

from edu.models import Device, Person
from edu.services.people import used_devices

_SHOWN = re.compile(r'name="shown" value="(\d+)"')
_TICKED = re.compile(r'name="device" value="(\d+)" checked')


def _used(big: BigHousehold, name: str) -> tuple[bool, set[int]]:
    """Whether *name* uses every device, and the device ids they use."""
    with Session(big.app.extensions["edu.engine"]) as session:
        person = session.exec(select(Person).where(Person.name == name)).one()
        dids = set(session.exec(select(Device.did).where(used_devices(person))))
        return person.uses_all_devices, dids


def _person_url(web: Web, big: BigHousehold, name: str) -> str:
    return f"/people/{web.person_id(big.app, name)}"


def _shown(page: str) -> list[int]:
    return [int(d) for d in _SHOWN.findall(page)]


def test_a_persons_devices_come_50_a_page_and_saving_one_page_keeps_the_others(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    url = _person_url(web, big_household, "Leo")
    first = web.get(url).get_data(as_text=True)
    page_one = _shown(first)
    assert len(page_one) == 50 and "Page 1 of 5" in first
    member = set(big_household.member_dids)
    assert f"{len(member)} of {DEVICES} devices" in first
    assert {int(d) for d in _TICKED.findall(first)} == member & set(page_one)
    assert f'href="{url}?page=2#devices"' in first
    assert len(first) < 60_000, "the page lists one page of devices, not all of them"

    # Tick every device of page one: Leo keeps his devices on the other pages.
    response = web.post(
        f"{url}?page=1",
        {"action": "devices", "shown": [str(d) for d in page_one], "device": page_one},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#devices")
    assert _used(big_household, "Leo") == (False, member | set(page_one))

    # Untick every device of page two.
    page_two = _shown(web.get(f"{url}?page=2").get_data(as_text=True))
    assert not set(page_two) & set(page_one)
    web.post(f"{url}?page=2", {"action": "devices", "shown": [str(d) for d in page_two]})
    assert _used(big_household, "Leo") == (False, (member | set(page_one)) - set(page_two))


def test_unticking_one_device_of_someone_who_uses_them_all_keeps_the_rest(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    url = _person_url(web, big_household, "Admin")
    page = web.get(f"{url}?page=3").get_data(as_text=True)
    shown = _shown(page)
    assert sorted(int(d) for d in _TICKED.findall(page)) == sorted(shown)  # all of them
    dropped = shown[7]
    kept = [d for d in shown if d != dropped]
    web.post(f"{url}?page=3", {"action": "devices", "shown": shown, "device": kept})
    assert _used(big_household, "Admin") == (False, set(big_household.dids) - {dropped})
    assert f"{DEVICES - 1} of {DEVICES} devices" in web.get(url).get_data(as_text=True)

    web.post(url, {"action": "devices", "all": "1"})
    assert _used(big_household, "Admin") == (True, set(big_household.dids))


def test_the_profile_form_leaves_the_devices_alone(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    url = _person_url(web, big_household, "Leo")
    response = web.post(url, {"action": "profile", "role": "member", "language": "zh-CN"})
    assert response.status_code == 302
    assert _used(big_household, "Leo") == (False, set(big_household.member_dids))
    with Session(big_household.app.extensions["edu.engine"]) as session:
        leo = session.exec(select(Person).where(Person.name == "Leo")).one()
        assert leo.language == "zh-CN"


def test_the_filter_finds_a_device_on_any_page_and_the_pager_keeps_it(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    url = _person_url(web, big_household, "Leo")
    with Session(big_household.app.extensions["edu.engine"]) as session:
        last = session.exec(select(Device).order_by(col(Device.did).desc())).first()
        assert last is not None
    found = web.get(f"{url}?q={last.name}").get_data(as_text=True)
    assert _shown(found) == [last.did]
    nothing = web.get(f"{url}?q=no+such+device").get_data(as_text=True)
    assert _shown(nothing) == [] and "No device matches." in nothing
    with Session(big_household.app.extensions["edu.engine"]) as session:
        everything = session.exec(select(Device)).all()

    def matches(text: str) -> int:
        return sum(text in f"{d.name} {d.model} {d.ip}".lower() for d in everything)

    words = {part for d in everything for part in d.model.split(".")}
    family = next(w for w in sorted(words) if 50 < matches(w) < DEVICES)  # e.g. a brand
    count = matches(family)
    many = web.get(f"{url}?q={family}").get_data(as_text=True)
    assert f"{url}?page=2&amp;q={family}#devices" in many
    second = web.get(f"{url}?page=2&q={family}").get_data(as_text=True)
    assert len(_shown(second)) == min(50, count - 50)


def test_inviting_someone_in_a_big_household_leads_to_their_page_to_choose(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    invite = web.get("/people").get_data(as_text=True)
    assert 'name="device"' not in invite and 'name="all"' in invite
    form = {"name": "Ana", "role": "member", "language": "en", "pin": "2468", "pin_again": "2468"}
    response = web.post("/people", form)
    assert response.status_code == 302
    ana = web.person_id(big_household.app, "Ana")
    assert response.headers["Location"] == f"/people/{ana}#devices"
    assert _used(big_household, "Ana") == (False, set())
    response = web.post("/people", {**form, "name": "Bo", "all": "1"})
    assert response.headers["Location"] == "/people"
    assert _used(big_household, "Bo") == (True, set(big_household.dids))


def test_numbers_that_are_not_plain_digits_are_ignored_not_a_server_error(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    url = _person_url(web, big_household, "Leo")
    odd = ["²", "٣", "99999999999999999999999", "-1", " 7 ", ""]
    response = web.post(url, {"action": "devices", "shown": odd, "device": odd})
    assert response.status_code == 302
    assert _used(big_household, "Leo") == (False, set(big_household.member_dids))
    assert web.get("/lessons/fan-buzzer?device=²").status_code in (200, 404)
    assert web.get("/lessons/fan-buzzer?device=99999999999999999999").status_code in (200, 404)
    for token_id in ("²", "9" * 30):  # nothing revoked: the page again
        assert web.post("/me", {"action": "revoke", "token": token_id}).status_code == 200
