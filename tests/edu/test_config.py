"""Settings come from EDU_* variables; flags override them; bad values fail in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session

from edu.config import Settings
from edu.models import Household
from edu.schema import create_schema, make_engine


@pytest.mark.default_database
def test_defaults_put_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"EDU_INSTANCE": str(tmp_path / "inst")})
    assert settings.instance == (tmp_path / "inst").resolve()
    assert settings.database_url == f"sqlite:///{settings.instance / 'feature-coach.sqlite3'}"
    assert settings.bind == "127.0.0.1:5000"
    assert settings.networks == ()


def test_environment_and_flags(tmp_path: Path) -> None:
    env = {
        "EDU_INSTANCE": str(tmp_path),
        "EDU_NETWORKS": "127.0.0.0/24, 127.0.1.0/24",
        "EDU_SECRET_KEY": "s3cret",
        "EDU_DATABASE_URL": "sqlite:///x.db",
    }
    settings = Settings.from_env(env, database_url="sqlite:///y.db", networks=None)
    assert [str(n) for n in settings.networks] == ["127.0.0.0/24", "127.0.1.0/24"]
    assert settings.database_url == "sqlite:///y.db"
    assert "s3cret" not in repr(settings)


def test_bad_number_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="EDU_DEVICE_TIMEOUT must be a number"):
        Settings.from_env({"EDU_INSTANCE": str(tmp_path), "EDU_DEVICE_TIMEOUT": "soon"})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("garbage", "not a network: 'garbage'"),
        ("127.0.0.0/24, 10.0.0.0/8", "too large to sweep"),
        ("fe80::/64", "not an IPv4 network"),
    ],
)
def test_a_bad_network_is_refused_at_start_not_at_the_first_scan(
    tmp_path: Path, value: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=f"^EDU_NETWORKS: .*{reason}"):
        Settings.from_env({"EDU_INSTANCE": str(tmp_path), "EDU_NETWORKS": value})


def test_networks_are_kept_in_their_canonical_form(tmp_path: Path) -> None:
    env = {"EDU_INSTANCE": str(tmp_path), "EDU_NETWORKS": "127.0.3.7/24; 127.0.9.1 ,127.0.3.0/24"}
    assert [str(n) for n in Settings.from_env(env).networks] == ["127.0.3.0/24", "127.0.9.1/32"]


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "0", "-5"])
def test_a_number_of_seconds_must_be_finite_and_positive(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ValueError, match=r"^EDU_POLL_INTERVAL must be"):
        Settings.from_env({"EDU_INSTANCE": str(tmp_path), "EDU_POLL_INTERVAL": raw})


def test_timestamps_come_back_timezone_aware_utc(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    create_schema(engine)
    berlin = timezone(timedelta(hours=1))
    with Session(engine) as session:
        session.add(Household(name="Home", created_at=datetime(2026, 1, 1, 13, 0, tzinfo=berlin)))
        session.commit()
    with Session(engine) as session:
        household = session.get(Household, 1)
        assert household is not None
        assert household.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        assert household.created_at.tzinfo is not None
