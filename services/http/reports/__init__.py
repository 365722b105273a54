"""The report routes (``/v1/reports/...``), one module per report, and what
they share (``formats``). Part of the HTTP door: imports like it."""

from services.http.reports import council, ivo, quarterly

#: Every report's router, included by ``services.http.app.create_app``.
ROUTERS = (quarterly.router, ivo.router, council.router)
