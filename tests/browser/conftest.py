"""Fixtures of the browser tests: one Chromium per session, one simulated
history per session, one OIDC provider per session, one ``boende serve`` per
module, and ``visit``: a fresh browser context (signed in with a role, or
not) that refuses, and afterwards fails the test for, any request to a host
other than 127.0.0.1.

Without Chromium the tests skip locally with the reason and fail on CI
(``.ci/run`` installs it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.simulation.player import plan, send
from tests.browser.browsing import (
    SEED,
    SIMULATED_MONTHS,
    OidcProvider,
    OutsideRequests,
    Server,
    chromium_or_skip,
    login_development,
)

Visit = Callable[..., Page]


@pytest.fixture(scope="session")
def chromium() -> Path:
    return chromium_or_skip()


@pytest.fixture(scope="session")
def simulated_history(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the simulated municipality recorded: the same seeded
    plan every run, so every module's server starts from the same log."""
    data_dir = tmp_path_factory.mktemp("history") / "var"
    boende = bootstrap(Settings(data_dir=data_dir, auth="off"))
    world = plan(SIMULATED_MONTHS, SEED)
    logging.disable(logging.INFO)  # thousands of access lines say nothing here
    try:
        with TestClient(create_app(boende)) as client:
            summary = send(world.envelopes, client, concurrency=4)
    finally:
        logging.disable(logging.NOTSET)
        boende.close()
    assert summary.unexpected == 0
    return data_dir


@pytest.fixture(scope="session")
def oidc_provider(
    chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OidcProvider]:
    provider = OidcProvider(tmp_path_factory.mktemp("oidc") / "provider.log")
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def server(
    simulated_history: Path,
    oidc_provider: OidcProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """``boende serve`` over a copy of the simulated history, for one module."""
    running = Server(
        simulated_history, tmp_path_factory.mktemp("serve"), oidc_provider.url
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an event loop
    # running in the main thread while it is open, and a later test's
    # asyncio.run() would then refuse to start ("cannot be called from a
    # running event loop").
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium),
            # As root (CI) Chromium needs --no-sandbox; nothing here is untrusted.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        yield launched
        launched.close()


@pytest.fixture
def visit(
    browser: Browser, server: Server, oidc_provider: OidcProvider
) -> Iterator[Visit]:
    """``visit(role, path)``: a page of a fresh context, signed in through
    the development login as ``role`` (None: not signed in), at ``path``.
    Afterwards, no request of any such page may have left 127.0.0.1."""
    outside = OutsideRequests(oidc_provider.url)
    contexts: list[BrowserContext] = []

    def open_page(role: str | None, path: str = "/oversikt") -> Page:
        # bypass_csp: axe-core is injected by the test (assert_accessible).
        context = browser.new_context(bypass_csp=True, locale="sv-SE")
        context.route("**/*", outside)
        contexts.append(context)
        page = context.new_page()
        if role is not None:
            login_development(page, server.url, role)
        page.goto(f"{server.url}{path}")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert outside.ours == [], f"requests left 127.0.0.1: {outside.ours}"
