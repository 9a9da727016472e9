"""The community hub: a Flask app of its own (own instance, own tables) that homes report to.

`create_hub_app` builds it; `edu hub serve` serves it with waitress (and recounts the
published table on a timer). It keeps no state between requests (everything is in its
database), so more processes behind a proxy, or on one port, serve more homes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edu.config import DEFAULT_LINK_HOSTS, link_hosts

if TYPE_CHECKING:
    from flask import Flask

    from edu.logs import install_redaction

    install_redaction()  # a WSGI server may import the factory without the CLI

logger = logging.getLogger(__name__)

# Request headers and environ keys that say where a request came from: gone before the app runs.
_ORIGIN_KEYS = (
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "REMOTE_PORT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
)


def _positive_int(env: Mapping[str, str], name: str, default: int, least: int = 1) -> int:
    raw = env.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        kind = "a positive" if least else "a"
        raise ValueError(f"{name} must be {kind} whole number, not {raw!r}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class HubSettings:
    """What the hub publishes and accepts."""

    min_homes: int = 10  # EDU_HUB_MIN_HOMES: a pair is published once this many homes report it
    per_hour: int = 12  # EDU_HUB_RATE: signed messages an hour per home key
    max_skew: int = 900  # EDU_HUB_MAX_SKEW: seconds a message's sent_at may be off the hub's clock
    cache_seconds: int = 3600  # how long the public answers may be cached
    tip_flags: int = 3  # EDU_HUB_TIP_FLAGS: homes flagging a tip hide it until reviewed
    link_hosts: tuple[str, ...] = DEFAULT_LINK_HOSTS  # EDU_HUB_LINK_HOSTS: where a tip may link
    secure_cookie: bool = False  # EDU_HUB_SECURE_COOKIE: served over HTTPS, cookie only there
    # EDU_HUB_SIMULATED: its homes are made up (`edu demo --hub`); every page and join says so
    simulated: bool = False
    # EDU_HUB_REFRESH_SECONDS: the published table is recounted at least this often
    # (0: before every read, for a try-out)
    refresh_seconds: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings:
        """Read the EDU_HUB_* variables."""
        env = os.environ if env is None else env
        return cls(
            min_homes=_positive_int(env, "EDU_HUB_MIN_HOMES", 10),
            per_hour=_positive_int(env, "EDU_HUB_RATE", 12),
            max_skew=_positive_int(env, "EDU_HUB_MAX_SKEW", 900),
            tip_flags=_positive_int(env, "EDU_HUB_TIP_FLAGS", 3),
            link_hosts=link_hosts(env),
            secure_cookie=_flag(env, "EDU_HUB_SECURE_COOKIE"),
            simulated=_flag(env, "EDU_HUB_SIMULATED"),
            refresh_seconds=_positive_int(env, "EDU_HUB_REFRESH_SECONDS", 300, least=0),
        )


class ForgetOrigin:
    """WSGI middleware: drop the sender's address before the app (or a log) can see it."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for name in _ORIGIN_KEYS:
            environ.pop(name, None)
        return self.app(environ, start_response)


def create_hub_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the hub: settings, its own engine and tables, the API, the public pages and the
    moderators' pages.

    *test_config* may hold ``EDU_SETTINGS`` (where the instance and database are),
    ``HUB_SETTINGS``, ``EDU_ENGINE`` (an engine already opened) and ``HUB_CLOCK`` (a
    function returning the time, for tests); other keys are Flask config.
    """
    from flask import Flask
    from werkzeug.exceptions import HTTPException

    from edu.config import Settings
    from edu.db import build_engine, utcnow
    from edu.hub import api, moderation, pages, shops_web, tips_api
    from edu.hub.protocol import MAX_BODY
    from edu.hub.store import create_tables

    config = dict(test_config or {})
    settings: Settings = config.pop("EDU_SETTINGS", None) or Settings.from_env()
    hub_settings: HubSettings = config.pop("HUB_SETTINGS", None) or HubSettings.from_env()
    engine = config.pop("EDU_ENGINE", None)
    instance = settings.ensure_instance()
    app = Flask(__name__, instance_path=str(instance), template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, JSON_SORT_KEYS=False, HUB_CLOCK=utcnow)
    app.config.update(moderation.cookie_config(settings, secure=hub_settings.secure_cookie))
    app.config.update(config)
    if engine is None:
        engine = build_engine(settings.database_url)
    create_tables(engine)  # the shops' table too: edu.hub.shops puts it on the same MetaData
    app.extensions["hub.engine"] = engine
    app.extensions["hub.settings"] = hub_settings
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(tips_api.bp)
    app.register_blueprint(shops_web.api_bp)
    app.register_blueprint(shops_web.pages_bp)
    moderation.init_app(app)
    app.register_error_handler(HTTPException, api.api_or_page_error)
    app.jinja_env.globals["simulated"] = hub_settings.simulated
    app.wsgi_app = ForgetOrigin(app.wsgi_app)  # type: ignore[method-assign]
    return app
