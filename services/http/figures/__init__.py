"""The seed figures for the executive board (``/v1/oversight/...``): people
in social contracts, the path to a first-hand lease, rents and vacancy; one
module per figure. Part of the HTTP door: imports like it."""

from services.http.figures import first_hand, households, rents

#: Every figure's router, included by ``services.http.app.create_app``.
ROUTERS = (households.router, first_hand.router, rents.router)
