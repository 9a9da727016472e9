"""The network doctor: a device's status in plain words, and what to do about it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from edu.web.i18n import N_
from edu.web.i18n import gettext as _


@dataclass(frozen=True)
class Diagnosis:
    """One device's health for people: a code, a headline, an explanation and steps."""

    code: str  # ok | new | needs-token | wrong-token | other-subnet | offline | unsupported | error
    tone: str  # good | warn | bad
    title: str
    explanation: str
    steps: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return status_words(self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "tone": self.tone,
            "words": self.words,
            "title": self.title,
            "explanation": self.explanation,
            "steps": list(self.steps),
        }


def in_networks(ip: str, networks: Sequence[str | IPv4Network]) -> bool | None:
    """Tell whether *ip* lies in one of *networks* (None when that cannot be said)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    inside = False
    for net in networks:
        try:
            inside = inside or address in ipaddress.ip_network(net, strict=False)
        except ValueError:
            continue
    return inside


# A diagnosis code as two or three plain words for a status pill (translated when said).
STATUS_WORDS = {
    "ok": N_("Working"),
    "new": N_("Not checked yet"),
    "needs-token": N_("Needs its token"),
    "wrong-token": N_("Token rejected"),
    "unsupported": N_("Not supported yet"),
    "error": N_("Something went wrong"),
}
NOT_ANSWERING = N_("Not answering")


def status_words(code: str) -> str:
    """Return a diagnosis code as two or three plain words for a status pill."""
    return _(STATUS_WORDS.get(code, NOT_ANSWERING))


def diagnose(device: Any, networks: Sequence[str | IPv4Network]) -> Diagnosis:
    """Explain *device* (a Device row) in words a non-engineer follows."""
    status, name, ip = device.status, device.display_name, device.ip or "?"
    if status == "online":
        return Diagnosis(
            "ok",
            "good",
            _("%(name)s is working", name=name),
            _("Feature Coach can read it and try features on it."),
        )
    if status == "new":
        return Diagnosis(
            "new",
            "warn",
            _("%(name)s has not been checked yet", name=name),
            _("Its token is stored, but Feature Coach has not talked to it since."),
            [_("Press “Scan for devices” to check it now.")],
        )
    # A token typed in that the device refused is not stored, but it was a wrong token.
    tried_token = device.token_known or device.discovered_via == "manual"
    if status == "auth-failed" and not tried_token:
        return Diagnosis(
            "needs-token",
            "warn",
            _("%(name)s needs its token", name=name),
            _(
                "This device is already set up in the Xiaomi Home app, so it keeps its token "
                "(a 32-character password) secret. Feature Coach needs it to talk to the device."
            ),
            [
                _("Get the token with a token extractor tool, or from the file it saves."),
                _(
                    "Add the device below with its address %(ip)s and the token, or import the file.",
                    ip=ip,
                ),
            ],
        )
    if status == "auth-failed":
        return Diagnosis(
            "wrong-token",
            "bad",
            _("%(name)s rejected its token", name=name),
            _(
                "The device did not accept the stored token. This happens when the token was "
                "mistyped, or when the device was reset or set up again in the Xiaomi Home app, "
                "which gives it a new token."
            ),
            [
                _("Get the current token again with your token extractor tool."),
                _("Add the device again with its address %(ip)s and the new token.", ip=ip),
            ],
        )
    if status == "unsupported":
        model = device.model or _("unknown model")
        return Diagnosis(
            "unsupported",
            "warn",
            _("%(name)s is not supported yet", name=name),
            _(
                "The device answers, but Feature Coach does not know model %(model)s yet, so it "
                "cannot tell what the device can do.",
                model=model,
            ),
            [
                _("Nothing is wrong with the device. Support for more models comes with updates."),
                # what is missing, in one line (a MIoT spec the service could not give ...)
                *([device.status_detail] if getattr(device, "status_detail", "") else []),
            ],
        )
    if status == "error":
        return Diagnosis(
            "error",
            "bad",
            _("%(name)s answered something unexpected", name=name),
            _("The device replied, but not in a way Feature Coach understands."),
            [_("Switch the device off and on again, then scan once more.")],
        )
    inside = in_networks(ip, networks)
    if networks and inside is False:
        return Diagnosis(
            "other-subnet",
            "bad",
            _("%(name)s is on another part of the network", name=name),
            _(
                "Its address %(ip)s is outside the networks Feature Coach searches (%(networks)s). "
                "Mesh routers, guest Wi-Fi and separate networks for smart devices do this.",
                ip=ip,
                networks=", ".join(str(n) for n in networks),
            ),
            [
                _("Connect the device to the same Wi-Fi as this computer, or"),
                _("add its network to EDU_NETWORKS (for example 192.168.2.0/24), or"),
                _("add it by its address below if your router lets the two networks talk."),
            ],
        )
    return Diagnosis(
        "offline",
        "bad",
        _("%(name)s is not answering", name=name),
        _(
            "It may be switched off, unplugged, or out of Wi-Fi range, or its address %(ip)s "
            "may have changed.",
            ip=ip,
        ),
        [
            _("Check that the device has power and shows it is connected."),
            _("Then press “Scan for devices”: a device that moved is found at its new address."),
        ],
    )


def diagnose_address(ip: str, networks: Sequence[str | IPv4Network]) -> Diagnosis:
    """Explain why nothing answered at *ip* when adding a device by hand."""
    inside = in_networks(ip, networks)
    steps = [
        _("Check the address in your router's list of connected devices."),
        _("Check that the device has power and is connected to Wi-Fi."),
    ]
    if networks and inside is False:
        steps.insert(
            0,
            _(
                "%(ip)s is outside the networks Feature Coach searches (%(networks)s): "
                "the device may be on another network.",
                ip=ip,
                networks=", ".join(str(n) for n in networks),
            ),
        )
    return Diagnosis(
        "offline",
        "bad",
        _("Nothing answered at %(ip)s", ip=ip),
        _("No Xiaomi device replied at that address."),
        steps,
    )
