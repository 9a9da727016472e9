"""`edu tips ...`: run, preview, channels and policy from the command line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_fixtures import one_line_error
from click.testing import CliRunner, Result
from tips_fixtures import BASE_URL, HttpReceiver, TipsDB

from edu.cli import main


@pytest.fixture
def edu(tips_db: TipsDB) -> Any:
    """Run `edu` on the test database; return the result."""
    home = tips_db.household("Flat", "Europe/Berlin")
    tips_db.device(home, "fan", 1001, name="Bedroom fan")
    tips_db.person(home, "Mia")
    runner = CliRunner(env={"EDU_BASE_URL": BASE_URL})

    def invoke(*args: str) -> Result:
        return runner.invoke(
            main,
            [
                "--instance",
                str(tips_db.settings.instance),
                "--database-url",
                tips_db.settings.database_url,
                *args,
            ],
        )

    return invoke


def test_tips_run_with_a_local_time_prints_what_it_sent_as_json(edu: Any) -> None:
    early = edu("tips", "run", "--now", "2025-06-02T09:00", "--json")
    assert early.exit_code == 0, early.output
    assert json.loads(early.output)["decisions"] == {"too-early": 1}
    result = edu("tips", "run", "--now", "2025-06-02T10:30", "--json")
    data = json.loads(result.output)
    assert data["tips_sent"] == 1 and data["now"] == "2025-06-02T10:30:00"
    (tip,) = data["tips"]
    assert tip["person"] == "Mia" and tip["channels"] == {"inbox": "sent"}
    assert tip["link"] == f"{BASE_URL}/lessons/{tip['lesson']}"
    # 08:30 UTC is 10:30 in Berlin (summer time): the same day, so nothing new.
    again = json.loads(edu("tips", "run", "--now", "2025-06-02T08:30:00+00:00", "--json").output)
    assert again["tips_sent"] == 0 and again["decisions"] == {"daily-cap": 1}


def test_tips_preview_shows_the_next_tip_without_sending(edu: Any) -> None:
    data = json.loads(
        edu("tips", "preview", "--person", "Mia", "--now", "2025-06-02T11:00", "--json").output
    )
    assert data["due"] and data["tip"]["title"]
    text = edu("tips", "preview", "--person", "Mia", "--now", "2025-06-02T11:00").output
    assert "due now" in text and data["tip"]["title"] in text
    assert json.loads(edu("tips", "inbox", "--person", "Mia", "--json").output) == []


def test_tips_channel_add_list_test_remove(edu: Any, http_receiver: HttpReceiver) -> None:
    url = http_receiver.url("/hook/s3cret-path")
    added = json.loads(edu("tips", "channel", "add", "--person", "Mia", url, "--json").output)
    assert added["kind"] == "JSON" and "s3cret-path" not in added["label"]
    listing = edu("tips", "channel", "list", "--person", "Mia")
    assert f"#{added['id']}" in listing.output and "s3cret-path" not in listing.output
    tested = edu("tips", "channel", "test", "--person", "Mia", str(added["id"]), "--json")
    assert json.loads(tested.output) == {"ok": True, "error": ""}
    assert http_receiver.requests[0]["path"] == "/hook/s3cret-path"
    removed = edu("tips", "channel", "remove", "--person", "Mia", url)
    assert removed.exit_code == 0 and f"#{added['id']}" in removed.output
    assert json.loads(edu("tips", "channel", "list", "--person", "Mia", "--json").output) == []


def test_a_failed_channel_test_exits_non_zero(edu: Any, http_receiver: HttpReceiver) -> None:
    http_receiver.status = 500
    edu("tips", "channel", "add", "--person", "Mia", http_receiver.url())
    result = edu("tips", "channel", "test", "--person", "Mia", "1")
    assert result.exit_code == 1 and "Test failed" in result.output and "500" in result.output


def test_tips_policy_changes_and_shows_the_policy(edu: Any) -> None:
    result = edu(
        "tips",
        "policy",
        "--person",
        "Mia",
        "--cadence",
        "weekly",
        "--day",
        "wed",
        "--at",
        "09:30",
        "--quiet",
        "22:00-07:00",
        "--daily-cap",
        "2",
        "--weekly-cap",
        "4",
        "--mute",
        "Bedroom fan",
        "--json",
    )
    data = json.loads(result.output)
    assert {
        k: data[k] for k in ("cadence", "weekday", "at", "quiet_hours", "daily_cap", "weekly_cap")
    } == {
        "cadence": "weekly",
        "weekday": "wed",
        "at": "09:30",
        "quiet_hours": "22:00-07:00",
        "daily_cap": 2,
        "weekly_cap": 4,
    }
    assert data["muted_devices"] == [{"did": 1001, "name": "Bedroom fan"}]
    unmuted = json.loads(
        edu("tips", "policy", "--person", "Mia", "--unmute", "1001", "--json").output
    )
    assert unmuted["muted_devices"] == [] and unmuted["cadence"] == "weekly"
    text = edu("tips", "policy", "--person", "Mia").output
    assert "weekly on wed at 09:30 (Europe/Berlin)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tips", "run", "--now", "yesterday"), "ISO date"),
        (("tips", "preview", "--person", "Nobody"), "no person called 'Nobody'"),
        (("tips", "policy", "--person", "Mia", "--at", "22:30"), "quiet hours"),
        (("tips", "policy", "--person", "Mia", "--quiet", "late"), "HH:MM-HH:MM"),
        (("tips", "policy", "--person", "Mia", "--day", "someday"), "unknown weekday"),
        (("tips", "policy", "--person", "Mia", "--daily-cap", "0"), "daily cap"),
        (("tips", "policy", "--person", "Mia", "--snooze-until", "2001-01-01"), "future"),
        (("tips", "policy", "--person", "Mia", "--mute", "Toaster"), "no device called 'Toaster'"),
        (
            ("tips", "channel", "add", "--person", "Mia", "nosuchthing://user:pa55word@host"),
            "cannot use",
        ),
        (("tips", "channel", "remove", "--person", "Mia", "7"), "no such channel"),
    ],
)
def test_bad_input_gets_a_one_line_error(edu: Any, args: tuple[str, ...], message: str) -> None:
    line = one_line_error(edu(*args))
    assert message in line and "pa55word" not in line
