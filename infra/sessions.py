"""A person's session in the oversight web: a signed cookie, and the key
that signs it.

The session cookie holds who signed in (``sub``), their roles, when the
session ends (``exp``: the identity provider's token's, never later) and how
they signed in (``oidc`` or ``development``). It is signed, not encrypted:
itsdangerous (HMAC-SHA-256) under the session key
``<data_dir>/keys/session.key`` — 32 random bytes in base64, made on first
use (directory 0700, file 0600, ``infra.keyfiles``); production refuses one a
development process made. A cookie whose signature, shape or ``exp`` fails is
no session at all. Replicas must share the key file; replacing it signs
everyone out.

The same key signs the CSRF form tokens (double submit, signed): a form
carries the signature of the browser's CSRF cookie, which a page of another
site can neither read nor forge.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from infra import keyfiles
from infra.settings import Settings

SESSION_COOKIE = "boende_session"
CSRF_COOKIE = "boende_csrf"
PENDING_COOKIE = "boende_oidc"  # a sign-in under way: state, nonce, PKCE verifier
PENDING_SECONDS = 600
KEY_BYTES = 32
METHODS = ("oidc", "development")


class SessionKeyError(keyfiles.KeyFileError):
    """The session key file exists but holds no key."""


class DevelopmentSessionKeyRefused(SessionKeyError, keyfiles.DevelopmentKeyRefused):
    """Production found a session key that a development process made."""


@dataclass(frozen=True)
class Session:
    """Who is signed in, with which roles, until when (Unix seconds), how."""

    sub: str
    roles: frozenset[str]
    exp: int
    via: str

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, self.exp - int(time.time() if now is None else now))


class Sessions:
    """Seals and opens session cookies and CSRF tokens under one key."""

    def __init__(self, key: bytes) -> None:
        self._session = URLSafeSerializer(key, salt="boende-session")
        self._csrf = URLSafeSerializer(key, salt="boende-csrf")
        self._pending = URLSafeTimedSerializer(key, salt="boende-oidc-pending")

    def seal(self, session: Session) -> str:
        """The cookie value of ``session``."""
        body = {
            "sub": session.sub,
            "roles": sorted(session.roles),
            "exp": session.exp,
            "via": session.via,
        }
        return str(self._session.dumps(body))

    def open(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie value; None when it is missing, forged,
        malformed or expired."""
        if not value:
            return None
        try:
            body: Any = self._session.loads(value)
        except BadData:
            return None
        session = _session_of(body)
        if session is None or session.seconds_left(now) <= 0:
            return None
        return session

    def csrf_token(self, secret: str) -> str:
        """The form token that goes with the CSRF cookie ``secret``."""
        return str(self._csrf.dumps(secret))

    def csrf_valid(self, secret: str | None, token: str | None) -> bool:
        """Whether a form's ``token`` belongs to the browser's CSRF cookie."""
        if not secret or not token:
            return False
        try:
            signed = self._csrf.loads(token)
        except BadData:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, secret)

    def seal_pending(self, values: dict[str, str]) -> str:
        """The cookie value of a sign-in under way (OpenID Connect)."""
        return str(self._pending.dumps(values))

    def open_pending(self, value: str | None) -> dict[str, str] | None:
        """A sign-in under way, if signed here within :data:`PENDING_SECONDS`."""
        if not value:
            return None
        try:
            values: Any = self._pending.loads(value, max_age=PENDING_SECONDS)
        except BadData:
            return None
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            return None
        return values


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def _session_of(body: Any) -> Session | None:
    if not isinstance(body, dict):
        return None
    sub, roles, exp, via = (body.get(k) for k in ("sub", "roles", "exp", "via"))
    if not (isinstance(sub, str) and sub and isinstance(exp, int)):
        return None
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        return None
    if via not in METHODS:
        return None
    return Session(sub, frozenset(roles), exp, via)


# -- the key -------------------------------------------------------------------

_REFUSAL = (
    "cannot sign people's sessions in production: provision a production key "
    "there (or remove the file so production makes its own; everyone signed "
    "in is signed out)"
)


def session_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "session.key"


def load_sessions(settings: Settings) -> Sessions:
    """The installation's :class:`Sessions`, its key made on first use."""
    path = session_key_path(settings.data_dir)
    text = keyfiles.load_or_create(
        path,
        settings.environment,
        _new_key_file,
        refusal=_REFUSAL,
        refused=DevelopmentSessionKeyRefused,
    )
    try:
        key = base64.b64decode("".join(text.body.split()), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SessionKeyError(f"{path} holds no base64 {KEY_BYTES}-byte key")
    return Sessions(key)


def _new_key_file(origin: str) -> bytes:
    text = (
        "# Boende session key: signs the oversight web's session cookies and\n"
        "# CSRF tokens. Private; replicas share it; a new key signs everyone out.\n"
        + keyfiles.origin_line(origin)
        + f"{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"
    )
    return text.encode("ascii")
