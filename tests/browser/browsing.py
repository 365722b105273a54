"""What the browser tests share: a real ``boende serve`` over a fixed
simulated history, a real OpenID Connect provider (``oidc-provider-mock``),
Debian's Chromium under Playwright, and the checks every page must pass
(:func:`assert_accessible`, :func:`assert_keyboard_reaches_every_control`,
:class:`OutsideRequests`).

The fixtures that use these are in ``tests/browser/conftest.py``; a page's
test needs no more than ``visit("oversight", "/oversikt/...")`` and the two
assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route

from infra.auth import mint_dev_token
from infra.settings import Settings
from tests.conftest import free_port, skip_or_fail_on_ci

#: Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it).
CHROMIUM = Path(os.environ.get("BOENDE_TEST_CHROMIUM", "/usr/bin/chromium"))
#: The simulated municipality: the same plan every run (``boende simulate``).
SIMULATED_MONTHS, SEED = 15, 13
#: A day inside the simulated history, with figures on it and a year before.
AS_OF = date(2026, 6, 30)
LOOPBACK = "127.0.0.1"
#: axe-core's rules for WCAG 2.0 and 2.1, levels A and AA.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: The OIDC provider's test person, and the role its ``roles`` claim gives.
BOARD_MEMBER = {"sub": "styrelseledamot-1", "roles": ["oversight"]}


def chromium_or_skip() -> Path:
    """Chromium's path; skips locally, fails on CI, when it is missing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail_on_ci(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        )
    return CHROMIUM


def wait_until(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll ``check`` (a readiness probe of another process) until it holds."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Process:
    """A child process with its log file, stopped with SIGTERM."""

    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(init=False)

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class OidcProvider:
    """``oidc-provider-mock`` on a loopback port: a real OpenID Connect
    provider (discovery, authorization form, token endpoint, JWKS) with
    :data:`BOARD_MEMBER` as a predefined user; nonces required."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        executable = Path(sys.executable).with_name("oidc-provider-mock")
        command = [
            str(executable),
            *("--host", LOOPBACK, "--port", str(self.port)),
            *("--require-nonce", "true", "--token-max-age", "1800"),
            *("--user-claims", json.dumps(BOARD_MEMBER)),
        ]
        self.process = Process(command, dict(os.environ), log).start()
        discovery = f"{self.url}/.well-known/openid-configuration"
        wait_until(
            lambda: answers(discovery) or not self.process.alive(),
            "the OIDC provider answers",
        )
        assert self.process.alive(), self.process.tail()

    def stop(self) -> None:
        self.process.stop()


class Server:
    """``boende serve`` on a loopback port over a copy of ``history``: tokens
    checked (``BOENDE_AUTH=jwt``), the development login, and the OIDC
    provider at ``issuer`` when one is given. Waits until every read model
    has caught up with the log."""

    def __init__(self, history: Path, workdir: Path, issuer: str | None) -> None:
        self.data_dir = workdir / "var"
        shutil.copytree(history, self.data_dir)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.settings = Settings(data_dir=self.data_dir, auth="jwt")
        env = os.environ | {
            "BOENDE_DATA_DIR": str(self.data_dir),
            "BOENDE_HOST": LOOPBACK,
            "BOENDE_PORT": str(self.port),
            "BOENDE_AUTH": "jwt",
            "BOENDE_ENVIRONMENT": "development",
        }
        env.pop("BOENDE_DATABASE_URL", None)
        if issuer:
            secret = workdir / "oidc_client_secret"
            secret.write_text("not-a-real-secret\n")
            env |= {
                "BOENDE_OIDC_ISSUER": issuer,
                "BOENDE_OIDC_CLIENT_ID": "boende-test",
                "BOENDE_OIDC_CLIENT_SECRET": str(secret),
            }
        command = [sys.executable, "-m", "services.cli.main", "serve"]
        self.process = Process(command, env, workdir / "serve.log").start()
        wait_until(
            lambda: answers(f"{self.url}/readyz") or not self.process.alive(),
            "boende serve answers",
        )
        assert self.process.alive(), self.process.tail()
        self._wait_for_read_models()

    def token(self, role: str) -> str:
        return mint_dev_token(self.settings, f"test-{role}", [role], timedelta(hours=1))

    def api(self, path: str, role: str = "oversight", **params: Any) -> Any:
        """A JSON answer of the API, with a development token of ``role``."""
        response = httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def _wait_for_read_models(self) -> None:
        position = httpx.get(f"{self.url}/readyz", timeout=5).json()["position"]
        assert position > 0, "the simulated history is empty"
        for path in ("/v1/oversight/counts", "/v1/oversight/unexecuted"):
            wait_until(
                lambda path=path: self._reached(path, position),  # type: ignore[misc]
                f"{path} reaches position {position}",
            )

    def _reached(self, path: str, position: int) -> bool:
        response = httpx.get(
            f"{self.url}{path}",
            params={"min_position": position},
            headers={"Authorization": f"Bearer {self.token('oversight')}"},
            timeout=30,
        )
        return response.status_code == 200

    def stop(self) -> None:
        self.process.stop()


# -- what every page must pass ---------------------------------------------------


class OutsideRequests:
    """Every request a browser context makes to a host other than 127.0.0.1
    is refused and remembered here. The OIDC provider's own login form (not
    ours: ``oidc-provider-mock`` links a stylesheet on a CDN) is recorded
    apart, in :attr:`of_provider`."""

    def __init__(self, provider_url: str | None = None) -> None:
        self.ours: list[str] = []
        self.of_provider: list[str] = []
        self.provider_url = provider_url

    def __call__(self, route: Route) -> None:
        request = route.request
        if urlsplit(request.url).hostname == LOOPBACK:
            route.continue_()
            return
        if self.provider_url and self._from_provider(route):
            self.of_provider.append(request.url)
        else:
            self.ours.append(request.url)
        route.abort()

    def _from_provider(self, route: Route) -> bool:
        try:
            frame_url = route.request.frame.url
        except Exception:  # a request without a frame (a worker): count it
            return False
        return bool(self.provider_url) and frame_url.startswith(str(self.provider_url))


def axe_script() -> Path:
    """axe-core's ``axe.min.js``, as the pinned ``axe-playwright-python``
    wheel ships it."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


def assert_accessible(page: Page) -> None:
    """axe-core on the page as it is now: zero WCAG 2.1 A/AA violations.
    (The context must bypass the page's CSP for the injected script, as the
    ``visit`` fixture's contexts do.)"""
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_21_AA,
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert violations == [], f"{page.url}:\n" + "\n".join(violations)
    assert result["passes"], "axe checked nothing"


_CONTROLS = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    "[tabindex]:not([tabindex='-1'])"
)


def assert_keyboard_reaches_every_control(page: Page) -> None:
    """Tab from the top of the page reaches every visible control."""
    count = page.evaluate(
        """selector => {
            const shown = [...document.querySelectorAll(selector)].filter(
                e => !e.disabled && e.getClientRects().length > 0
                     && getComputedStyle(e).visibility !== 'hidden');
            shown.forEach((e, i) => e.setAttribute('data-tab-check', i));
            return shown.length;
        }""",
        _CONTROLS,
    )
    assert count > 0, "no control on the page"
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.locator("body").focus()
    reached: set[str] = set()
    # A date or time input takes one Tab per field (day, month, year, hour,
    # minute): allow several presses per control, and stop once all are met.
    for _ in range(count * 6 + 10):
        page.keyboard.press("Tab")
        mark = page.evaluate(
            "() => document.activeElement?.getAttribute('data-tab-check')"
        )
        if mark is not None:
            reached.add(mark)
        if len(reached) == count:
            break
    missing = page.evaluate(
        """marks => [...document.querySelectorAll('[data-tab-check]')]
            .filter(e => !marks.includes(e.getAttribute('data-tab-check')))
            .map(e => e.outerHTML.slice(0, 120))""",
        sorted(reached),
    )
    assert missing == [], f"not reachable by Tab on {page.url}: {missing}"


def login_development(page: Page, server_url: str, role: str) -> None:
    """Sign in on the development login page with ``role``'s button."""
    page.goto(f"{server_url}/oversikt/logga-in")
    page.locator(f"button[name=role][value={role}]").click()
    page.wait_for_load_state()


def figures_on_page(page: Page) -> dict[str, int]:
    """The Översikt table's figures on the chosen day, by figure code."""
    rows = page.locator("tr[data-figure]")
    return {
        str(rows.nth(i).get_attribute("data-figure")): int(
            str(rows.nth(i).locator("td").first.get_attribute("data-value"))
        )
        for i in range(rows.count())
    }
