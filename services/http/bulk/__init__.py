"""The bulk door (``POST /v1/submissions/batch``) for migrations and
catch-up: the route (``door``) and its answer's models (``answers``). Part
of the HTTP door: imports like it."""

from services.http.bulk import door

#: The bulk door's router, included by ``services.http.app.create_app``.
ROUTERS = (door.router,)
