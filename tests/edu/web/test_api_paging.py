"""Lists of the JSON API in pages: limit, an opaque cursor, a Link header to the next page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from paging_fixtures import BigHousehold
from web_fixtures import Web

LISTS = ("/api/v1/devices", "/api/v1/progress", "/api/v1/household/progress")
_NEXT = re.compile(r'^<(http://localhost/api/v1/[a-z/]+\?[^>]+)>; rel="next"$')


def _did(row: dict[str, Any]) -> int:
    return int(row["did"] if "did" in row else row["device"])


def _pages(web: Web, url: str) -> list[list[int]]:
    """Follow the Link headers from *url* to the last page; return each page's device ids."""
    pages: list[list[int]] = []
    next_url: str | None = url
    while next_url is not None:
        response = web.api("GET", next_url)
        assert response.status_code == 200, (next_url, response.get_json())
        pages.append([_did(row) for row in response.get_json()])
        link = response.headers.get("Link")
        match = _NEXT.match(link) if link else None
        assert link is None or match, link
        next_url = match.group(1) if match else None
        assert len(pages) < 50, "the cursors go round in circles"
    return pages


@pytest.mark.parametrize("url", LISTS)
def test_api_lists_come_in_pages_of_100_and_the_cursors_cover_every_device_once(
    big_household: BigHousehold, url: str
) -> None:
    web = big_household.signed_in("Admin")
    pages = _pages(web, url)
    assert [len(p) for p in pages] == [100, 100, 30]
    assert pages[0] == big_household.dids[:100]  # by device id
    assert pages[1] == big_household.dids[100:200]
    assert pages[2] == big_household.dids[200:]  # the last page has no Link


def test_a_limit_sets_the_page_size_and_travels_in_the_next_link(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    first = web.api("GET", "/api/v1/devices?limit=7")
    assert [_did(r) for r in first.get_json()] == big_household.dids[:7]
    assert "limit=7" in first.headers["Link"] and "cursor=" in first.headers["Link"]
    pages = _pages(web, "/api/v1/devices?limit=500")
    assert pages == [big_household.dids]
    flat = [did for page in _pages(web, "/api/v1/devices?limit=64") for did in page]
    assert flat == big_household.dids


def test_no_device_token_is_in_any_page(big_household: BigHousehold) -> None:
    web = big_household.signed_in("Admin")
    tokens = [f"{n:032x}" for n in range(len(big_household.dids))]  # build()'s tokens
    body = web.api("GET", "/api/v1/devices?limit=500").get_data(as_text=True)
    assert body.count('"did"') == len(tokens) and not [t for t in tokens if t in body]


@pytest.mark.parametrize("url", ("/api/v1/devices", "/api/v1/progress"))
def test_a_member_sees_only_their_own_devices_on_every_page(
    big_household: BigHousehold, url: str
) -> None:
    web = big_household.signed_in("Leo")
    pages = _pages(web, f"{url}?limit=25")
    mine = big_household.member_dids
    assert [len(p) for p in pages] == [25, 25, 25, 2]
    assert [did for page in pages for did in page] == mine
    assert web.api("GET", "/api/v1/household/progress").status_code == 403


BAD = (
    "limit=0",
    "limit=501",
    "limit=-1",
    "limit=ten",
    "limit=",
    "limit=2.5",
    "limit=%C2%B2",
    "cursor=",
    "cursor=abc",
    "cursor=AAAAAAA",
    "cursor=AA%20AAA",
    "cursor=AAAAA%0A",
)


@pytest.mark.parametrize("url", LISTS)
def test_a_bad_limit_or_cursor_is_a_400_with_a_one_line_json_error(
    big_household: BigHousehold, url: str
) -> None:
    web = big_household.signed_in("Admin")
    for query in BAD:
        response = web.api("GET", f"{url}?{query}")
        assert response.status_code == 400, query
        error = response.get_json()
        assert error["error"] == "bad-input", query
        assert error["message"] and "\n" not in error["message"]


def test_a_cursor_past_the_last_device_gives_an_empty_last_page(
    big_household: BigHousehold,
) -> None:
    web = big_household.signed_in("Admin")
    response = web.api("GET", "/api/v1/devices?cursor=_____w")  # the largest device id
    assert response.status_code == 200 and response.get_json() == []
    assert "Link" not in response.headers
