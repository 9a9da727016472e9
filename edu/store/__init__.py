"""Store demo mode: snapshots, guided scripts, demo sessions, throttle, kiosk and the staff log.

Independent of Flask: the demo pages (``edu.web.pages.store``) and the CLI call these services.
"""
