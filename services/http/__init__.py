"""The HTTP door: the FastAPI app (``app``), its dependencies, authorization
(``authz.ROUTES``), the OpenAPI helpers and one module per audience's routes.
May import bootstrap, the capabilities, projections, infra and domain; never
the other doors."""
