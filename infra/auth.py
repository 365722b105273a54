"""Bearer tokens (JWT): verifying them, and the development key that mints them.

A token is a JWT with the claims ``sub`` (who), ``roles`` (a list of role
names) and ``exp``, signed with RS256 or EdDSA (Ed25519). The service
verifies it against one of:

- ``BOENDE_JWKS_PATH``: a JWKS file (the identity provider's published keys;
  a token's ``kid`` picks the key);
- ``BOENDE_JWT_PUBLIC_KEY_PATH``: one PEM public key (RSA or Ed25519);
- in development only, and by default: the public half of the development
  key ``<data_dir>/keys/jwt_dev.key`` (Ed25519, made on first use, directory
  0700, file 0600), which ``boende token`` signs with.

Only the algorithms in ``BOENDE_JWT_ALGORITHMS`` that match a configured key
are accepted, so ``none`` and HS256 (an HMAC "signed" with the public key's
bytes) never are. Production refuses to start without a configured key, and
with the development key: the files it writes say ``# generated-by:
development``, and a configured key equal to the development key is refused
too.

A verified token is remembered by its SHA-256 until ``exp`` (a client's
next request skips the ~190 µs signature check), at most
``TOKEN_CACHE_SIZE``, the oldest forgotten first; a refusal never is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from infra import keyfiles
from infra.settings import Settings

#: Every role a token may carry (``services.http.authz`` says what each may call).
#: ``case_system`` is a committee's case system (Treserva, Lifecare, ALN's
#: property system): its token is bound to one committee by the claim
#: ``committee`` and may name that committee's officers as ``actor.user``.
ROLES = ("ifn_officer", "aln_officer", "oversight", "auditor", "admin", "case_system")
#: The ``iss`` of the tokens ``boende token`` mints (development only).
DEV_ISSUER = "boende-development"
DEV_KEY_NAME = "jwt_dev.key"
DEV_PUBLIC_KEY_NAME = "jwt_dev.pub"
_PEM = serialization.Encoding.PEM
_RAW = serialization.Encoding.Raw
_RAW_FORMAT = serialization.PublicFormat.Raw
#: Verified tokens remembered at most (a few hundred bytes each).
TOKEN_CACHE_SIZE = 4096


class TokenRefused(Exception):
    """The bearer token is missing, malformed, expired or not ours."""


class AuthConfigError(RuntimeError):
    """Authentication is configured so that the service must not start."""


class DevelopmentKeyRefused(AuthConfigError, keyfiles.DevelopmentKeyRefused):
    """Production was given the development token key."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's ``sub`` and ``roles``, and its ``iss``
    (``issuer``, None when the token has none) and ``committee`` claim (the
    committee a ``case_system`` token is bound to). ``authenticated`` is
    false only with ``BOENDE_AUTH=off`` (tests, local experiments)."""

    sub: str
    roles: frozenset[str]
    authenticated: bool = True
    issuer: str | None = None
    committee: str | None = None


@dataclass(frozen=True)
class VerificationKey:
    """A public key, the one algorithm it verifies, and its key id."""

    key: Any
    algorithm: str
    kid: str | None


class Verifier:
    """Checks bearer tokens against the configured keys and algorithms."""

    def __init__(self, keys: Iterable[VerificationKey], settings: Settings) -> None:
        allowed = set(settings.jwt_algorithms)
        self.keys = [k for k in keys if k.algorithm in allowed]
        if not self.keys:
            raise AuthConfigError(
                f"no configured token key fits BOENDE_JWT_ALGORITHMS {sorted(allowed)}"
            )
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.leeway = settings.jwt_leeway_seconds
        self.cache_size = TOKEN_CACHE_SIZE
        # sha256(token) -> (principal, the time it stops verifying).
        self._verified: dict[bytes, tuple[Principal, float]] = {}

    def verify(self, token: str, at: datetime | None = None) -> Principal:
        """The token's principal; :class:`TokenRefused` saying why not.

        ``at``: judge the token's lifetime at this moment instead of now (a
        Kafka message's own timestamp: a backlog is not refused for having
        waited). It held then if ``iat - leeway <= at <= exp + leeway``; an
        ``at`` later than now counts as now. Such checks are not remembered."""
        if at is not None:
            return self._verify(token, min(at, datetime.now(UTC)))[0]
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            self._verified.pop(digest, None)  # expired: checked again, refused
        principal, expires = self._verify(token)
        self._remember(digest, principal, expires)
        return principal

    def _remember(self, digest: bytes, principal: Principal, expires: float) -> None:
        while len(self._verified) >= self.cache_size:  # the oldest goes first
            self._verified.pop(next(iter(self._verified), b""), None)
        self._verified[digest] = (principal, expires)

    def _verify(
        self, token: str, at: datetime | None = None
    ) -> tuple[Principal, float]:
        """The full check (at ``at``, or now): the principal, and until when
        it holds."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("the bearer token is not a JWT") from None
        candidates = self._keys_for(header.get("alg"), header.get("kid"))
        for candidate in candidates:
            try:
                claims = self._decode(token, candidate, at)
            except jwt.InvalidSignatureError:
                continue  # another key of the set may have signed it
            except jwt.ExpiredSignatureError:
                raise TokenRefused("the bearer token has expired") from None
            except jwt.PyJWTError as error:
                raise TokenRefused(f"the bearer token is invalid: {error}") from None
            # jwt.decode accepts it up to exp + leeway; so does the cache.
            return _principal(claims), float(claims["exp"]) + self.leeway
        raise TokenRefused("the bearer token's signature does not verify")

    def _keys_for(self, algorithm: Any, kid: Any) -> list[VerificationKey]:
        fitting = [k for k in self.keys if k.algorithm == algorithm]
        if not fitting:
            raise TokenRefused(f"tokens signed with {algorithm!r} are not accepted")
        by_kid = [k for k in fitting if kid is not None and k.kid == kid]
        return by_kid or fitting

    def _decode(
        self, token: str, candidate: VerificationKey, at: datetime | None
    ) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            candidate.key,
            algorithms=[candidate.algorithm],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": ["exp", "sub"], "verify_exp": at is None},
        )
        if at is not None:
            self._check_lifetime_at(claims, at.timestamp())
        return claims

    def _check_lifetime_at(self, claims: dict[str, Any], moment: float) -> None:
        """The lifetime check PyJWT makes at "now", made at ``moment``."""
        exp, iat = claims.get("exp"), claims.get("iat")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise TokenRefused("the bearer token's exp is not a number")
        if exp + self.leeway < moment:
            raise TokenRefused(
                "the bearer token had expired when the message was produced"
            )
        if isinstance(iat, int | float) and moment < iat - self.leeway:
            raise TokenRefused(
                "the message is dated before its bearer token was issued"
            )


def _principal(claims: dict[str, Any]) -> Principal:
    sub, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(sub, str) or not sub.strip():
        raise TokenRefused("the bearer token's sub is empty")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise TokenRefused("the bearer token's roles must be a list of names")
    issuer, committee = claims.get("iss"), claims.get("committee")
    if committee is not None and not isinstance(committee, str):
        raise TokenRefused("the bearer token's committee must be a name")
    return Principal(
        sub,
        frozenset(roles),
        issuer=issuer if isinstance(issuer, str) else None,
        committee=committee,
    )


# -- loading the configured keys ------------------------------------------------


def load_verifier(settings: Settings) -> Verifier:
    """The verifier of ``settings``; :class:`AuthConfigError` when production
    has no key configured or was given the development key."""
    production = settings.environment == "production"
    if settings.jwks_path is not None:
        keys = jwks_keys(settings.jwks_path)
    elif settings.jwt_public_key_path is not None:
        keys = [pem_key(settings.jwt_public_key_path, production)]
    elif production:
        raise AuthConfigError(
            "production needs BOENDE_JWT_PUBLIC_KEY_PATH or BOENDE_JWKS_PATH: "
            "the development token key is never accepted there"
        )
    else:
        public = load_or_create_dev_key(settings).public_key()
        keys = [VerificationKey(public, "EdDSA", key_id(public))]
    if production:
        _refuse_development_key(settings, keys)
    return Verifier(keys, settings)


def pem_key(path: Path, production: bool) -> VerificationKey:
    """The PEM public key at ``path`` (RSA: RS256; Ed25519: EdDSA)."""
    text = _read_key(path)
    if production and text.origin == keyfiles.DEVELOPMENT:
        raise DevelopmentKeyRefused(
            f"{path} is the development token key; production must be given "
            "the identity provider's key"
        )
    try:
        key = serialization.load_pem_public_key(text.body.encode())
    except ValueError as error:
        raise AuthConfigError(f"{path} holds no PEM public key: {error}") from None
    if isinstance(key, Ed25519PublicKey):
        return VerificationKey(key, "EdDSA", key_id(key))
    if isinstance(key, RSAPublicKey):
        return VerificationKey(key, "RS256", None)
    raise AuthConfigError(f"{path}: only RSA (RS256) and Ed25519 (EdDSA) keys")


def jwks_keys(path: Path) -> list[VerificationKey]:
    """The signing keys of the JWKS file at ``path``."""
    try:
        jwks = jwt.PyJWKSet.from_json(_read(path))
    except (jwt.PyJWTError, ValueError, json.JSONDecodeError) as error:
        raise AuthConfigError(f"{path} holds no usable JWKS: {error}") from None
    keys = []
    for jwk in jwks.keys:
        if jwk.public_key_use not in (None, "sig"):
            continue
        key = jwk.key.public_key() if hasattr(jwk.key, "private_bytes") else jwk.key
        keys.append(VerificationKey(key, jwk.algorithm_name, jwk.key_id))
    return keys


def _refuse_development_key(settings: Settings, keys: list[VerificationKey]) -> None:
    dev = dev_key_path(settings)
    if not dev.exists():
        return
    dev_raw = read_private_key(dev).public_key().public_bytes(_RAW, _RAW_FORMAT)
    for k in keys:
        if isinstance(k.key, Ed25519PublicKey) and (
            k.key.public_bytes(_RAW, _RAW_FORMAT) == dev_raw
        ):
            raise DevelopmentKeyRefused(
                f"the configured token key is the development key {dev}; "
                "production must be given the identity provider's key"
            )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise AuthConfigError(f"cannot read {path}: {error}") from None


def _read_key(path: Path) -> keyfiles.KeyText:
    try:
        return keyfiles.read(path)
    except OSError as error:
        raise AuthConfigError(f"cannot read {path}: {error}") from None


# -- the development key and tokens ----------------------------------------------


def dev_key_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / DEV_KEY_NAME


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable id of an Ed25519 key (the JWT header's ``kid``)."""
    return hashlib.sha256(public.public_bytes(_RAW, _RAW_FORMAT)).hexdigest()[:16]


def load_or_create_dev_key(settings: Settings) -> Ed25519PrivateKey:
    """The development token key, made on first use with its public half
    beside it (``jwt_dev.pub``); never in production."""
    if settings.environment == "production":
        raise DevelopmentKeyRefused(
            "production never makes or uses the development token key; tokens "
            "come from the municipality's identity provider"
        )
    path = dev_key_path(settings)
    if not path.exists():
        keyfiles.create_once(path, _DEV_HEADER.encode() + _new_private_pem())
    key = read_private_key(path)
    public = path.with_name(DEV_PUBLIC_KEY_NAME)
    if not public.exists():  # from the key that won any race, so they match
        pem = key.public_key().public_bytes(
            _PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keyfiles.create_once(public, _DEV_HEADER.encode() + pem, 0o644)
    return key


def read_private_key(path: Path) -> Ed25519PrivateKey:
    text = _read_key(path)
    try:
        key = serialization.load_pem_private_key(text.body.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise AuthConfigError(f"{path} holds no usable private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuthConfigError(f"{path} does not hold an Ed25519 private key")
    return key


def mint(
    private_key: Ed25519PrivateKey,
    sub: str,
    roles: Iterable[str],
    lifetime: timedelta,
    now: datetime | None = None,
    **more: Any,
) -> str:
    """An EdDSA token for ``sub`` with ``roles``, valid for ``lifetime``;
    ``more``: further claims (``iss``, ``committee``; None ones left out)."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": sub,
        "roles": sorted(set(roles)),
        "iat": issued,
        "exp": issued + lifetime,
        **{name: value for name, value in more.items() if value is not None},
    }
    kid = key_id(private_key.public_key())
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})


def mint_dev_token(
    settings: Settings,
    sub: str,
    roles: Iterable[str],
    lifetime: timedelta,
    committee: str | None = None,
) -> str:
    """A development token (``boende token``), issued by :data:`DEV_ISSUER`
    unless ``BOENDE_JWT_ISSUER`` names another (which then verifies it);
    ``committee`` binds a ``case_system`` token. Production refuses."""
    issuer = settings.jwt_issuer or DEV_ISSUER
    key = load_or_create_dev_key(settings)
    return mint(key, sub, roles, lifetime, iss=issuer, committee=committee)


_DEV_HEADER = (
    "# Boende development token key (Ed25519): `boende token` signs with it.\n"
    "# Development only: production refuses it.\n"
    + keyfiles.origin_line(keyfiles.DEVELOPMENT)
)


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        _PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
