"""The CI switch cannot be misspelt into a quiet skip: any truthy ``CI``
turns a missing service into a failure, whatever its case. Truthy is
anything but empty, ``0``, ``false``, ``no``, ``off`` or ``n``: a CI system's
own value (Woodpecker's ``CI=woodpecker``) or a typo counts as CI. The same
switch run through pytest on a real PostgreSQL test:
``tests/integration/test_ci_switch_run.py``."""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import ci_is_set, postgres_or_skip


@pytest.mark.parametrize(
    "value",
    ["1", "true", "True", "TRUE", "yes", "Yes", " on ", "y", "2", "woodpecker", "ture"],
)
def test_truthy_values_mean_ci(value: str) -> None:
    assert ci_is_set(value)


@pytest.mark.parametrize(
    "value",
    ["", "  ", "0", " 0 ", "false", "False", "FALSE", "no", "No", "off", "OFF", "n"],
)
def test_other_values_do_not(value: str) -> None:
    assert not ci_is_set(value)


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("1", pytest.fail.Exception),
        ("True", pytest.fail.Exception),
        ("yes", pytest.fail.Exception),
        ("TRUE", pytest.fail.Exception),
        ("woodpecker", pytest.fail.Exception),
        ("", pytest.skip.Exception),
        ("0", pytest.skip.Exception),
        ("false", pytest.skip.Exception),
        ("FALSE", pytest.skip.Exception),
    ],
)
def test_a_missing_postgres_fails_on_ci_and_skips_elsewhere(
    ci: str, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(conftest, "ADMIN_URL", "postgresql://postgres@127.0.0.1:1/x")
    with pytest.raises(outcome, match="PostgreSQL unreachable"):
        postgres_or_skip()


def test_without_ci_in_the_environment_it_is_not_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not ci_is_set()
    monkeypatch.setenv("CI", "Yes")
    assert ci_is_set()
