"""``CI=1 make test`` without PostgreSQL fails (issue 16): pytest itself,
run on one real PostgreSQL test with ``BOENDE_TEST_POSTGRES_URL`` on a port
nobody listens on, so the shared server stays up for everyone else. With a
truthy ``CI`` the run fails and says why; without it, or with ``CI=0`` or
``false``, the test is skipped with the same reason and the run passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

# Every value's meaning is in tests/unit/test_ci_switch.py; these runs (a few
# seconds each: pytest starts and imports the app) show it end to end.
pytestmark = pytest.mark.slow


ROOT = Path(__file__).resolve().parents[2]
A_POSTGRES_TEST = (
    "tests/integration/test_store.py"
    "::test_positions_are_the_log_order_of_submissions[postgres]"
)


def pytest_run(ci: str | None) -> subprocess.CompletedProcess[str]:
    """pytest on ``A_POSTGRES_TEST`` with ``CI`` as given (``None``: unset)
    and the PostgreSQL URL on a closed loopback port."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    env = {**os.environ, "BOENDE_TEST_POSTGRES_URL": url}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, A_POSTGRES_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ci", ["1", "TRUE"])
def test_with_ci_set_a_missing_postgres_fails_the_run(ci: str) -> None:
    done = pytest_run(ci)
    assert done.returncode == 1, done.stdout
    # A fixture that fails is reported as an error at setup: a failure, not a skip.
    assert done.stdout.splitlines()[-1].startswith("1 error in "), done.stdout
    assert f"Failed: CI={ci} and PostgreSQL unreachable at" in done.stdout
    assert "Connection refused" in done.stdout
    assert "skipped" not in done.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_without_ci_a_missing_postgres_is_skipped_with_the_reason(
    ci: str | None,
) -> None:
    done = pytest_run(ci)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith("1 skipped in "), done.stdout
    assert "SKIPPED [1] tests/integration/test_store.py:" in done.stdout
    assert ": PostgreSQL unreachable at postgresql://postgres@127.0.0.1:" in (
        done.stdout
    )
