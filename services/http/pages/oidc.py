"""Signing people in with OpenID Connect: authorization code with PKCE
against the municipality's identity provider (``BOENDE_OIDC_*``).

authlib does the OAuth 2.0 part (the authorization URL with its S256 code
challenge, the code exchange, the client's authentication at the token
endpoint); PyJWT, which verifies the API's bearer tokens, verifies the ID
token against the provider's published keys (its signature, ``iss``,
``aud``, ``exp`` and the ``nonce`` this sign-in sent). The person's roles
come from the configured claim (ID token, else userinfo), mapped through
``BOENDE_OIDC_ROLE_MAP``; the session ends when the ID token does.

Every failure is :class:`SignInFailed`, said to the person on the login
page; the provider's own words are logged for the operator, never a token.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.deprecate import AuthlibDeprecationWarning

from infra.auth import ROLES
from infra.sessions import Session
from infra.settings import Settings

with warnings.catch_warnings():
    # authlib 1.9 asks for the httpx2 package and falls back to httpx, which
    # it still supports fully: one HTTP client in the project is enough.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

log = logging.getLogger(__name__)

#: Signature algorithms an ID token may use (never ``none``, never HMAC).
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
TIMEOUT = httpx.Timeout(5.0)
REFUSED = "Identitetsleverantören godtog inte inloggningen."
UNVERIFIED = "Identitetsleverantörens ID-token kunde inte verifieras."


class SignInFailed(Exception):
    """The sign-in did not succeed; the message is for the person."""


@dataclass(frozen=True)
class Provider:
    """The endpoints of the identity provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


class Oidc:
    """The configured identity provider, and a sign-in's two halves."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        path = settings.oidc_client_secret
        self.secret = path.read_text(encoding="utf-8").strip() if path else None
        self._provider: Provider | None = None

    def provider(self) -> Provider:
        """The discovery document, fetched once it answers."""
        if self._provider is None:
            meta = self._get(f"{self.issuer}/.well-known/openid-configuration")
            if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise SignInFailed("Identitetsleverantören uppger en annan utfärdare.")
            self._provider = Provider(
                str(meta["issuer"]),
                str(meta["authorization_endpoint"]),
                str(meta["token_endpoint"]),
                str(meta["jwks_uri"]),
                meta.get("userinfo_endpoint"),
            )
        return self._provider

    def start(self, redirect_uri: str) -> tuple[str, dict[str, str]]:
        """The provider's authorization URL, and what the answer must match
        (kept in the browser's signed pending cookie)."""
        pending = {
            "state": secrets.token_urlsafe(24),
            "nonce": secrets.token_urlsafe(24),
            "verifier": secrets.token_urlsafe(48),  # PKCE, 64 characters
        }
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.provider().authorization_endpoint,
                state=pending["state"],
                nonce=pending["nonce"],
                code_verifier=pending["verifier"],
            )
        return str(url), pending

    def finish(self, pending: dict[str, str], code: str, redirect_uri: str) -> Session:
        """The session of a provider's answer: the code exchanged (with the
        PKCE verifier), the ID token verified, the roles mapped."""
        provider = self.provider()
        with self._client(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    provider.token_endpoint,
                    code=code,
                    code_verifier=pending["verifier"],
                )
            except (OAuthError, httpx.HTTPError, ValueError) as error:
                log.warning("OIDC code exchange refused: %s", type(error).__name__)
                raise SignInFailed(REFUSED) from None
        claims = self.verify_id_token(str(token.get("id_token", "")), pending["nonce"])
        if self._roles_claim_missing(claims) and provider.userinfo_endpoint:
            claims = {**self._userinfo(provider, token, claims["sub"]), **claims}
        return Session(
            claims["sub"], roles_of(claims, self.settings), claims["exp"], "oidc"
        )

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once everything about it checks out."""
        try:
            header = jwt.get_unverified_header(id_token)
            algorithm = header.get("alg")
            if algorithm not in ID_TOKEN_ALGORITHMS:
                raise SignInFailed(f"ID-token signerade med {algorithm!r} godtas inte.")
            keys = jwt.PyJWKSet.from_dict(self._get(self.provider().jwks_uri)).keys
            fitting = [k for k in keys if k.key_id == header.get("kid")] or keys
            claims: dict[str, Any] = jwt.decode(
                id_token,
                fitting[0].key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self.provider().issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, IndexError) as error:
            log.warning("OIDC ID token refused: %s", type(error).__name__)
            raise SignInFailed(UNVERIFIED) from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("ID-token hör till en annan inloggning (nonce).")
        if not isinstance(claims["sub"], str) or not isinstance(claims["exp"], int):
            raise SignInFailed("ID-token saknar användbara sub och exp.")
        return claims

    def _roles_claim_missing(self, claims: dict[str, Any]) -> bool:
        return claim_at(claims, self.settings.oidc_roles_claim) is None

    def _userinfo(
        self, provider: Provider, token: dict[str, Any], sub: str
    ) -> dict[str, Any]:
        assert provider.userinfo_endpoint
        info = self._get(
            provider.userinfo_endpoint,
            {"Authorization": f"Bearer {token.get('access_token', '')}"},
        )
        if info.get("sub") != sub:
            raise SignInFailed("Userinfo gäller en annan person än ID-token.")
        return info

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.secret,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.secret else "none",
            timeout=TIMEOUT,
        )

    def _get(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = httpx.get(url, headers=headers, timeout=TIMEOUT)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("OIDC request to the provider failed: %s", type(error).__name__)
            raise SignInFailed("Identitetsleverantören svarade inte.") from None
        if not isinstance(body, dict):
            raise SignInFailed("Identitetsleverantören svarade något oväntat.")
        return body


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted ``path`` (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def roles_of(claims: dict[str, Any], settings: Settings) -> frozenset[str]:
    """Boende's roles in the configured claim (a list, or one value, or a
    space-separated string), mapped by ``BOENDE_OIDC_ROLE_MAP``; values that
    map to no role of Boende are left out."""
    value = claim_at(claims, settings.oidc_roles_claim)
    values = value.split() if isinstance(value, str) else value
    if not isinstance(values, list):
        return frozenset()
    mapped = {settings.oidc_role_map.get(v, v) for v in values if isinstance(v, str)}
    return frozenset(mapped & set(ROLES))
