"""The verifier remembers verified tokens (``infra/auth.py``): until they
expire and no longer, by the whole token (a token sharing another's header
and claims but not its signature is checked on its own), and only so many."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from infra.auth import (
    TokenRefused,
    Verifier,
    load_or_create_dev_key,
    load_verifier,
    mint,
)
from infra.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", auth="jwt", jwt_leeway_seconds=0)


@pytest.fixture
def verifier(settings: Settings) -> Verifier:
    return load_verifier(settings)


def cached(verifier: Verifier) -> int:
    """How many verified tokens the verifier remembers."""
    return len(verifier._verified)


def token(settings: Settings, sub: str, roles: list[str], seconds: float) -> str:
    return mint(load_or_create_dev_key(settings), sub, roles, timedelta(0, seconds))


def test_a_verified_token_is_remembered(settings: Settings, verifier: Verifier) -> None:
    good = token(settings, "anna", ["auditor"], 3600)
    assert verifier.verify(good).sub == "anna"
    assert cached(verifier) == 1
    assert verifier.verify(good).roles == frozenset({"auditor"})
    assert cached(verifier) == 1


def test_a_remembered_token_stops_working_when_it_expires(
    settings: Settings, verifier: Verifier
) -> None:
    # exp is whole seconds: issued now plus 2 s expires within 1..2 s.
    short = token(settings, "anna", ["auditor"], 2)
    assert verifier.verify(short).sub == "anna"  # remembered
    time.sleep(2.1)
    with pytest.raises(TokenRefused, match="expired"):
        verifier.verify(short)
    assert cached(verifier) == 0
    with pytest.raises(TokenRefused, match="expired"):
        verifier.verify(short)  # refusals are not remembered


def test_a_token_with_the_same_prefix_is_not_taken_for_another(
    settings: Settings, verifier: Verifier
) -> None:
    good = token(settings, "anna", ["auditor"], 3600)
    verifier.verify(good)
    head, claims, signature = good.split(".")
    forged = f"{head}.{claims}.{signature[:-4]}AAAA"
    assert forged != good and forged[:40] == good[:40]
    with pytest.raises(TokenRefused):
        verifier.verify(forged)
    # Same header, same key, another caller: its own principal.
    other = token(settings, "bertil", ["oversight"], 3600)
    assert other.split(".")[0] == head
    assert (verifier.verify(other).sub, verifier.verify(good).sub) == (
        "bertil",
        "anna",
    )


def test_the_cache_is_bounded_and_forgets_the_oldest(
    settings: Settings, verifier: Verifier
) -> None:
    verifier.cache_size = 3
    tokens = [token(settings, f"user-{i}", ["auditor"], 3600) for i in range(5)]
    for t in tokens:
        verifier.verify(t)
        assert cached(verifier) <= 3
    assert cached(verifier) == 3
    # The oldest was forgotten: verified again (still good), and remembered.
    assert verifier.verify(tokens[0]).sub == "user-0"
    assert cached(verifier) == 3


def test_the_cache_holds_digests_not_tokens(
    settings: Settings, verifier: Verifier
) -> None:
    good = token(settings, "anna", ["auditor"], 3600)
    verifier.verify(good)
    assert all(len(key) == 32 for key in verifier._verified)
    assert good.encode() not in verifier._verified
