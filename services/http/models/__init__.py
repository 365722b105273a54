"""The answers of the HTTP door's JSON routes as pydantic models: what
``/openapi.json`` documents and what FastAPI checks each answer against
(``response_model``). Part of the HTTP door: imports like it.

Each model says exactly what is sent today: a key a route leaves out is a
field with a default that the route omits (``response_model_exclude_unset=True``
keeps it out), and unknown keys are refused (``extra="forbid"``), so an answer
that grows a field fails its tests until the model documents it. Text that
holds a date or a UTC time stays text (format ``date`` or ``date-time`` in
the document), so it is sent exactly as the read models wrote it.

One module per audience: ``common`` (what they share, and health),
``submissions``, ``cases``, ``oversight``, ``audit``, ``reports``.
"""
