"""What the benchmarks that start a real server share: a free port, one request, signing in."""

from __future__ import annotations

import http.client
import re
import socket


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, *, cookie: str = "", body: str | None = None
) -> tuple[int, str, str]:
    """Make one request; return (status, Set-Cookie value, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, (response.getheader("Set-Cookie") or "").split(";")[0], text
    finally:
        conn.close()


def sign_in(port: int, person: int, pin: str) -> str:
    """Sign *person* in with *pin*; return the session cookie."""
    status, cookie, page = request(port, "GET", f"/signin/{person}")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or match is None:
        raise RuntimeError(f"the sign-in page answered {status}")
    status, signed_in, _ = request(
        port,
        "POST",
        f"/signin/{person}",
        cookie=cookie,
        body=f"csrf_token={match.group(1)}&pin={pin}",
    )
    if status != 302:
        raise RuntimeError(f"signing in answered {status}")
    return signed_in
