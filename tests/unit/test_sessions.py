"""The signed session cookie and CSRF tokens of the oversight web
(``infra.sessions``): what opens, and everything that must not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer

from infra.sessions import (
    KEY_BYTES,
    DevelopmentSessionKeyRefused,
    Session,
    Sessions,
    load_sessions,
    session_key_path,
)
from infra.settings import Settings

NOW = 1_800_000_000
KEY = b"k" * KEY_BYTES


def session(exp: int = NOW + 60, via: str = "oidc") -> Session:
    return Session("styrelseledamot-1", frozenset({"oversight"}), exp, via)


def test_a_sealed_session_opens_until_it_ends() -> None:
    sessions = Sessions(KEY)
    sealed = sessions.seal(session())
    assert sessions.open(sealed, now=NOW) == session()
    assert sessions.open(sealed, now=NOW + 59) == session()
    assert sessions.open(sealed, now=NOW + 60) is None


def test_another_key_or_a_changed_cookie_opens_nothing() -> None:
    sealed = Sessions(KEY).seal(session())
    assert Sessions(b"o" * KEY_BYTES).open(sealed, now=NOW) is None
    head, _, signature = sealed.rpartition(".")
    assert Sessions(KEY).open(f"{head}.{signature[::-1]}", now=NOW) is None
    assert Sessions(KEY).open(None) is None and Sessions(KEY).open("") is None


@pytest.mark.parametrize(
    "body",
    [
        ["not", "a", "dict"],
        {"sub": "", "roles": [], "exp": NOW + 60, "via": "oidc"},
        {"sub": "x", "roles": "oversight", "exp": NOW + 60, "via": "oidc"},
        {"sub": "x", "roles": [1], "exp": NOW + 60, "via": "oidc"},
        {"sub": "x", "roles": [], "exp": "never", "via": "oidc"},
        {"sub": "x", "roles": [], "exp": NOW + 60, "via": "password"},
    ],
)
def test_a_signed_body_of_the_wrong_shape_is_no_session(body: object) -> None:
    # Signed with the right key and salt: only the shape is wrong.
    forged = URLSafeSerializer(KEY, salt="boende-session").dumps(body)
    assert Sessions(KEY).open(str(forged), now=NOW) is None


def test_a_csrf_token_belongs_to_one_cookie_and_one_key() -> None:
    sessions = Sessions(KEY)
    token = sessions.csrf_token("cookie-secret")
    assert sessions.csrf_valid("cookie-secret", token)
    assert not sessions.csrf_valid("another-secret", token)
    assert not Sessions(b"o" * KEY_BYTES).csrf_valid("cookie-secret", token)
    assert not sessions.csrf_valid("cookie-secret", "cookie-secret")
    assert not sessions.csrf_valid(None, token) and not sessions.csrf_valid("x", None)
    # A session cookie is not a CSRF token, nor the other way round.
    assert sessions.open(token) is None


def test_a_pending_sign_in_opens_for_ten_minutes_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = Sessions(KEY)
    sealed = sessions.seal_pending({"state": "s", "nonce": "n", "verifier": "v"})
    assert sessions.open_pending(sealed) == {
        "state": "s",
        "nonce": "n",
        "verifier": "v",
    }
    later = time.time() + 601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert sessions.open_pending(sealed) is None
    assert sessions.open_pending("garbage") is None


def test_the_key_is_made_once_and_production_refuses_a_development_one(
    tmp_path: Path,
) -> None:
    development = Settings(data_dir=tmp_path / "var")
    sealed = load_sessions(development).seal(session(exp=int(time.time()) + 60))
    assert load_sessions(development).open(sealed) is not None  # the same key
    assert session_key_path(development.data_dir).stat().st_mode & 0o077 == 0
    production = development.model_copy(update={"environment": "production"})
    with pytest.raises(DevelopmentSessionKeyRefused):
        load_sessions(production)
