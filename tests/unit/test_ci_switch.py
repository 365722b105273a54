"""The CI switch cannot be misspelt into a quiet skip: any truthy ``CI``
turns a missing service into a failure, whatever its case."""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import ci_is_set, postgres_or_skip


@pytest.mark.parametrize(
    "value", ["1", "true", "True", "TRUE", "yes", "Yes", " on ", "y"]
)
def test_truthy_values_mean_ci(value: str) -> None:
    assert ci_is_set(value)


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no", "off", "n"])
def test_other_values_do_not(value: str) -> None:
    assert not ci_is_set(value)


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("1", pytest.fail.Exception),
        ("True", pytest.fail.Exception),
        ("yes", pytest.fail.Exception),
        ("", pytest.skip.Exception),
        ("0", pytest.skip.Exception),
    ],
)
def test_a_missing_postgres_fails_on_ci_and_skips_elsewhere(
    ci: str, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(conftest, "ADMIN_URL", "postgresql://postgres@127.0.0.1:1/x")
    with pytest.raises(outcome, match="PostgreSQL unreachable"):
        postgres_or_skip()
