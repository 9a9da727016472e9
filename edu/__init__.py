"""Feature Coach application: the Flask app factory (no app, engine or side effect at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

MAX_UPLOAD_BYTES = 1024 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app: settings, engine, inventory, blueprints, translations, security.

    *test_config* overrides Flask config keys; ``EDU_SETTINGS`` in it replaces the settings
    read from the environment (tests give a Settings pointing at a temporary instance), and
    ``EDU_ENGINE`` an engine already opened on them (the CLI opens it to report a database
    it cannot reach in one line).
    """
    from flask import Flask

    from edu.config import Settings
    from edu.logs import install_redaction
    from edu.schema import create_schema, make_engine
    from edu.services.inventory import Inventory
    from edu.services.scans import ScanTracker
    from edu.web import errors, fragments, i18n, security, session, store_desk
    from edu.web.routing import CONVERTERS

    install_redaction()  # a WSGI server may import the factory without the CLI
    config = dict(test_config or {})
    settings: Settings = config.pop("EDU_SETTINGS", None) or Settings.from_env()
    engine = config.pop("EDU_ENGINE", None)
    instance = settings.ensure_instance()
    app = Flask(
        __name__,
        instance_path=str(instance),
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or security.instance_secret(instance),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="edu_session",
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        EDU_SETTINGS=settings,
        EDU_LOGIN_TRIES_PER_MINUTE=5,
        EDU_SNOOZE_DAYS=7,
    )
    app.config.from_pyfile("web.cfg", silent=True)
    app.config.update(config)
    if engine is None:
        engine = make_engine(settings.database_url)
        create_schema(engine)
    app.extensions["edu.engine"] = engine
    app.extensions["edu.inventory"] = Inventory.open(engine, settings)
    app.extensions["edu.scans"] = ScanTracker()
    store_desk.install_desk(app)
    session.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    fragments.init_app(app)
    app.url_map.converters.update(CONVERTERS)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """Register every blueprint of the app: the pages, then the JSON API."""
    from edu.web.api import household as household_api
    from edu.web.api import store as store_api
    from edu.web.pages import (
        community,
        devices,
        household,
        kiosk,
        lessons,
        owner_tips,
        setup,
        store,
        tips,
    )

    for module in (setup, household, devices, lessons, tips, store, kiosk, community, owner_tips):
        app.register_blueprint(module.bp)
    for module in (household_api, store_api):
        app.register_blueprint(module.bp)
