"""Why a bearer token is refused reaches the caller word for word (mutants of
``services/http/authz.py``'s ``authenticate``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from infra.auth import (
    TokenRefused,
    Verifier,
    load_or_create_dev_key,
    load_verifier,
    mint,
)
from infra.settings import Settings
from services.http.authz import Unauthenticated, authenticate


def bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[Verifier, Settings]:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    load_or_create_dev_key(settings)
    return load_verifier(settings), settings


@pytest.mark.parametrize("credentials", [None, bearer("   ")])
def test_no_token_is_refused_saying_what_is_required(
    keyed: tuple[Verifier, Settings], credentials: HTTPAuthorizationCredentials | None
) -> None:
    with pytest.raises(Unauthenticated) as refusal:
        authenticate(keyed[0], credentials)
    assert refusal.value.message == "an Authorization: Bearer token is required"
    assert str(refusal.value) == refusal.value.message


def test_a_refused_token_says_why(keyed: tuple[Verifier, Settings]) -> None:
    verifier, settings = keyed
    expired = mint(
        load_or_create_dev_key(settings), "anna", ["auditor"], timedelta(hours=-1)
    )
    with pytest.raises(TokenRefused) as why:
        verifier.verify(expired)
    with pytest.raises(Unauthenticated) as refusal:
        authenticate(verifier, bearer(expired))
    assert refusal.value.message == str(why.value)
    assert "expired" in refusal.value.message


def test_a_good_token_names_its_caller(keyed: tuple[Verifier, Settings]) -> None:
    verifier, settings = keyed
    token = mint(load_or_create_dev_key(settings), "anna", ["auditor"], timedelta(1))
    principal = authenticate(verifier, bearer(f" {token} "))
    assert (principal.sub, principal.roles) == ("anna", frozenset({"auditor"}))
