"""``make screenshots``: pictures of the oversight web's main pages for the
README and docs, in ``docs/img/``.

A fixed simulation (the browser tests' seeded municipality, on the tests'
fixed today) is recorded, ``boende serve`` is started over it, and Debian's
Chromium (Playwright) signs in through the development login and photographs
each page at 1100 px wide. The PNGs are reduced to 64 colours: small enough
to commit, and the same run gives the same pictures.

Usage: ``python -m tests.browser.screenshots [--out DIR] [PAGE ...]``
(default: :data:`DEFAULT`; the pages are the keys of :data:`SHOTS`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("BOENDE_TODAY", "2026-11-30")  # the tests' today

from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import sync_playwright

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.simulation.player import plan, send
from tests.browser.browsing import (
    AS_OF,
    CHROMIUM,
    SEED,
    SIMULATED_MONTHS,
    Server,
    login_development,
)

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
#: name -> (role, path): the pages a reader of the README meets first.
SHOTS = {
    "oversikt": ("oversight", f"/oversikt?as_of={AS_OF}"),
    "floden": ("oversight", "/oversikt/floden?period=quarter&from=2025-07-01"),
    "handlaggningstider": ("oversight", "/oversikt/handlaggningstider?period=quarter"),
    "ej-verkstallda": ("oversight", f"/oversikt/ej-verkstallda?as_of={AS_OF}"),
    "bostadsbestand": ("oversight", "/oversikt/bostadsbestand"),
    "forstahand": ("oversight", "/oversikt/forstahand"),
    "hyror": ("oversight", "/oversikt/hyror?by=landlord"),
    "hemloshet": ("oversight", "/oversikt/hemloshet"),
    "revision": ("auditor", "/oversikt/revision"),
}
#: What ``make screenshots`` writes (and docs/img/ keeps); name others to add them.
DEFAULT = ("oversikt", "floden", "ej-verkstallda")
WIDTH, HEIGHT = 1100, 1000
COLOURS = 64


def record_history(data_dir: Path) -> Path:
    """The seeded municipality, recorded through the API in-process."""
    boende = bootstrap(Settings(data_dir=data_dir, auth="off"))
    logging.disable(logging.INFO)
    try:
        with TestClient(create_app(boende)) as client:
            summary = send(
                plan(SIMULATED_MONTHS, SEED).envelopes, client, concurrency=4
            )
    finally:
        logging.disable(logging.NOTSET)
        boende.close()
    if summary.unexpected:
        raise SystemExit(f"the simulation had {summary.unexpected} unexpected answers")
    return data_dir


def photograph(server: Server, names: list[str], out: Path) -> list[Path]:
    """Each page of ``names`` as a PNG in ``out``, signed in with its role."""
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            for name in names:
                role, path = SHOTS[name]
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT}, locale="sv-SE"
                )
                context.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if "//127.0.0.1:" in route.request.url
                        else route.abort()
                    ),
                )
                page = context.new_page()
                login_development(page, server.url, role)
                page.goto(f"{server.url}{path}")
                target = out / f"{name}.png"
                page.screenshot(path=str(target))
                context.close()
                _reduce(target)
                written.append(target)
        finally:
            browser.close()
    return written


def _reduce(png: Path) -> None:
    """The picture in :data:`COLOURS` colours (text and charts stay sharp)."""
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=COLOURS)
    small.save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("pages", nargs="*", choices=[[], *SHOTS], default=[])
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        print(
            f"Chromium is not at {CHROMIUM}: apt-get install chromium", file=sys.stderr
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="boende-screenshots-") as tmp:
        history = record_history(Path(tmp) / "history")
        server = Server(history, Path(tmp), issuer=None)
        try:
            written = photograph(server, list(args.pages or DEFAULT), args.out)
        finally:
            server.stop()
    for path in written:
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
