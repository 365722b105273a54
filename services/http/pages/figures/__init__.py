"""The pages of the seed figures (issue 13, issue 11's figures): one module
per page, each calling its JSON endpoint's own function
(``services.http.figures``), never recomputing. Kept apart from
``services.http.pages`` so that package stays at its twelve modules;
``services.http.pages`` includes :data:`ROUTERS`.
"""

from services.http.pages.figures import forstahand, hemloshet, hyror

__all__ = ["ROUTERS", "forstahand", "hemloshet", "hyror"]

#: The routers of the seed figures' pages.
ROUTERS = (forstahand.router, hyror.router, hemloshet.router)
