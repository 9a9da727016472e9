"""Looking for a secret in what the product shows, without false alarms from numbers."""

from __future__ import annotations

import re


def shows(secret: str, text: str) -> bool:
    """Tell whether *text* shows *secret*. A number (a PIN, a device id) counts only standing
    alone: a timestamp, an uptime or a random token may hold the same digits."""
    if secret.isdigit():
        return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None
    return secret in text
