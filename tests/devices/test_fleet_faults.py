"""The simulated fleet's fault modes, concurrency and file checks, as python-miio meets them."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import construct
import pytest
import yaml
from fleet_fixtures import miio_client
from fleet_helpers import (
    GENERIC_MODEL,
    HELLO,
    MODELS,
    exchange,
    raw_request,
    wait_for,
)
from miio import DeviceFactory
from miio.exceptions import (
    DeviceException,
    InvalidTokenException,
    PayloadDecodeException,
)
from miio.integrations.dmaker.fan.fan_miot import FanMiot
from miio.integrations.dreame.vacuum.dreamevacuum_miot import DreameVacuum
from miio.integrations.genericmiot.genericmiot import GenericMiot
from miio.integrations.zhimi.airpurifier.airpurifier_miot import AirPurifierMiot
from miio.integrations.zhimi.heater.heater_miot import HeaterMiot
from miio.integrations.zhimi.humidifier.airhumidifier_miot import AirHumidifierMiot
from miio.protocol import Message

from devices.fleet import FAULTS, Fleet, SimulatedDevice
from devices.fleet_sim import SimFileError


# -- fault modes ----------------------------------------------------------------------------
def test_every_fault_mode_is_known_and_others_are_refused(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    for fault in FAULTS:
        fan.fault = fault
    with pytest.raises(ValueError):
        fan.fault = "on-fire"


def test_stuck_device_says_ok_but_nothing_it_is_told_changes_it(fleet: Fleet) -> None:
    sim = fleet.by_model("roborock.vacuum.s5")
    vacuum = miio_client(sim)
    vacuum.spot()
    sim.fault = "stuck"
    assert vacuum.home() == ["ok"]
    assert vacuum.status().state == "Spot cleaning"
    sim.fault = None
    vacuum.home()
    assert vacuum.status().state == "Returning home"


def test_slow_device_answers_late_and_times_out_a_hasty_client(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    # A patient client gets the late answer: its timeout leaves room for a busy machine,
    # where the fleet's thread adds its own delay to the device's 0.1 s.
    client = miio_client(fan, timeout=2.0)
    client.info()
    fan.fault, fan.slow_seconds = "slow", 0.1
    started = time.monotonic()
    assert client.send("get_prop", ["power"]) == ["on"]
    assert time.monotonic() - started >= 0.1
    # A hasty one gives up first: the device waits 0.6 s however fast the machine is.
    client._protocol._timeout = 0.3
    fan.slow_seconds = 0.6
    with pytest.raises(DeviceException):
        client.send("get_prop", ["power"])


def test_no_reply_device_is_offline_even_for_hello(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    client = miio_client(fan, timeout=0.3)
    client.info()  # handshake first: python-miio waits a fixed 5 s for a hello reply
    fan.fault = "no-reply"
    started = time.monotonic()
    with pytest.raises(DeviceException, match="No response"):
        client.send("get_prop", ["power"])
    # It waited for its own 0.3 s timeout, not python-miio's fixed 5 s wait for a hello reply
    # (the bound tells the two apart with room for a busy machine; it measures no speed).
    assert 0.25 < time.monotonic() - started < 4.5
    assert wait_for(lambda: fan.requests["get_prop"] == 1)  # it arrived; no answer came
    assert exchange(fan.ip, HELLO, timeout=0.1) is None
    assert fan.requests["hello"] >= 2


def test_wrong_token_device_was_reset_and_python_miio_says_invalid_token(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    fan.fault = "wrong-token"
    assert exchange(fan.ip, HELLO) is not None
    with pytest.raises(InvalidTokenException):
        miio_client(fan).info()


def test_a_client_with_the_wrong_token_gets_silence(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    stranger = DeviceFactory.create(fan.ip, "00" * 16, model=fan.model)
    stranger._protocol._timeout, stranger.retry_count = 0.2, 0
    with pytest.raises(DeviceException, match="No response"):
        stranger.info()
    # The client gave up after 0.2 s; on a busy machine the fleet's thread may not have
    # handled the request yet: wait for it to be counted, then check it is counted once.
    assert wait_for(lambda: fan.requests["<undecodable>"] >= 1)
    assert fan.requests["<undecodable>"] == 1


def test_a_wrong_token_whose_padding_decrypts_is_still_silence(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    # About one wrong-token request in 256 decrypts to valid padding under the device's key;
    # the device must reject it on the checksum, as real ones do, not choke on its JSON.
    fan = fleet.by_model("zhimi.fan.za4")
    key = bytes.fromhex(fan.token)
    for n in range(100_000):
        stranger_token = n.to_bytes(16, "big").hex()
        packet = raw_request(fan, "get_prop", ["power"], token=stranger_token)
        try:
            Message.parse(packet, token=key)
        except PayloadDecodeException:
            break
        except (construct.ConstructError, ValueError):
            continue
    else:
        pytest.fail("no wrong token with valid padding found")
    caplog.clear()  # the search above logged python-miio's own JSON complaints
    with caplog.at_level(logging.ERROR):
        assert exchange(fan.ip, packet) is None
        # Silence alone does not say the device handled the packet (its thread may be late
        # on a busy machine): wait until it did, so its log lines are in before we look.
        assert wait_for(lambda: fan.requests["<undecodable>"] >= 1)
    assert fan.requests["<undecodable>"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_malformed_replies_are_truncated_packets(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    client = miio_client(fan)
    client.info()
    fan.fault = "malformed"
    assert len(exchange(fan.ip, raw_request(fan, "get_prop", ["power"])) or b"") == 24
    # python-miio lets construct's own error through: it is not a DeviceException.
    with pytest.raises(construct.core.ConstructError):
        client.send("get_prop", ["power"])


def test_oversized_replies_are_valid_but_too_big_for_python_miio(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    client = miio_client(fan)
    client.info()
    fan.fault = "oversized"
    reply = exchange(fan.ip, raw_request(fan, "get_prop", ["power"]))
    assert reply is not None and len(reply) > 8192
    parsed = Message.parse(reply, token=bytes.fromhex(fan.token))
    assert parsed.data.value["result"] == ["on"]
    # python-miio reads 4096 bytes; the cut packet fails its checksum.
    with pytest.raises(InvalidTokenException):
        client.send("get_prop", ["power"])


def test_remembering_ids_makes_python_miio_retry_with_a_new_id(fleet: Fleet) -> None:
    fan = fleet.by_model("zhimi.fan.za4")
    fan.remember_ids = True
    miio_client(fan).info()
    again = miio_client(fan, timeout=0.3, retries=1)
    assert again.info(skip_cache=True).model == fan.model
    assert fan.requests["miIO.info"] == 3
    assert again.raw_id > 100


def test_devices_answer_concurrent_clients(fleet: Fleet) -> None:
    errors: list[BaseException] = []

    def poll(device: SimulatedDevice) -> None:
        try:
            miio_client(device).status()
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=poll, args=(fleet.by_model(m),))
        for m in ("zhimi.fan.za4", "zhimi.humidifier.ca1", "dmaker.fan.p9", "chuangmi.plug.v3")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert errors == []
    assert wait_for(lambda: fleet.by_model("zhimi.fan.za4").requests["get_prop"] == 12)


def test_miot_classes_used_by_the_household(fleet: Fleet) -> None:
    classes = {m: DeviceFactory.class_for_model(m) for m in MODELS}
    assert classes["zhimi.airpurifier.mb3"] is AirPurifierMiot
    assert classes["dmaker.fan.p9"] is FanMiot
    assert classes["zhimi.humidifier.ca4"] is AirHumidifierMiot
    assert classes["zhimi.heater.mc2"] is HeaterMiot
    assert classes["dreame.vacuum.mc1808"] is DreameVacuum
    assert classes[GENERIC_MODEL] is GenericMiot


def test_simulator_and_fleet_files_are_checked_when_loaded(tmp_path: Path) -> None:
    sims = tmp_path / "sims"
    sims.mkdir()
    (sims / "bad.yaml").write_text(
        yaml.safe_dump(
            {
                "models": [{"model": "zhimi.heater.mc2"}],
                "miot": {"spec": "zhimi.heater.mc2", "values": {"heater:target-temperature": 99}},
            }
        )
    )
    fleet_file = tmp_path / "one.yaml"
    fleet_file.write_text(
        yaml.safe_dump({"devices": [{"model": "zhimi.heater.mc2", "family": "heater"}]})
    )
    with pytest.raises(SimFileError, match="does not fit the spec"):
        Fleet.load(str(fleet_file), sims_dir=sims)
    fleet_file.write_text(
        yaml.safe_dump({"devices": [{"model": "zhimi.fan.za4", "family": "toaster"}]})
    )
    with pytest.raises(SimFileError, match="toaster"):
        Fleet.load(str(fleet_file))
