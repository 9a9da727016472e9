"""Store demo mode: snapshots, guided scripts, demo sessions, throttle, kiosk and the staff log.

Independent of Flask: the demo pages (``edu.web.demo``) and the CLI call these services.
"""
