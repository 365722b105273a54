"""Bearer tokens: what verifies, what never does, and which keys production
refuses (``infra.auth``)."""

from __future__ import annotations

import json
import stat
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from infra.auth import (
    AuthConfigError,
    DevelopmentKeyRefused,
    Principal,
    TokenRefused,
    dev_key_path,
    load_or_create_dev_key,
    load_verifier,
    mint,
)
from infra.settings import Settings
from services.http.authz import check_configuration

HOUR = timedelta(hours=1)


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", auth="jwt", **overrides)


def claims(**extra: Any) -> dict[str, Any]:
    return {
        "sub": "anna",
        "roles": ["auditor"],
        "exp": int(time.time()) + 86_400,
    } | extra


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- development -----------------------------------------------------------------------


def test_a_development_token_verifies_with_its_sub_and_roles(tmp_path: Path) -> None:
    config = settings(tmp_path)
    token = mint(load_or_create_dev_key(config), "anna", ["auditor", "admin"], HOUR)
    principal = load_verifier(config).verify(token)
    assert principal == Principal("anna", frozenset({"auditor", "admin"}))


def test_the_development_key_is_private_and_marked(tmp_path: Path) -> None:
    config = settings(tmp_path)
    key = load_or_create_dev_key(config)
    path = dev_key_path(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "# generated-by: development" in path.read_text()
    public = path.with_name("jwt_dev.pub").read_bytes()
    assert public_pem(key) in public  # the pair matches
    assert load_or_create_dev_key(config).public_key() == key.public_key()


@pytest.mark.parametrize(
    ("bad_claims", "reason"),
    [
        (claims(roles="auditor"), "roles"),
        (claims(sub=""), "sub"),
        ({"sub": "anna", "roles": []}, "exp"),
        ({"roles": [], "exp": int(time.time()) + 86_400}, "sub"),
        (claims(exp=int(time.time()) - 3600), "expired"),
    ],
)
def test_claims_that_are_refused(
    tmp_path: Path, bad_claims: dict[str, Any], reason: str
) -> None:
    config = settings(tmp_path)
    token = jwt.encode(bad_claims, load_or_create_dev_key(config), algorithm="EdDSA")
    with pytest.raises(TokenRefused, match=reason):
        load_verifier(config).verify(token)


# -- configured keys -------------------------------------------------------------------


def test_an_rsa_public_key_verifies_rs256_and_nothing_else(tmp_path: Path) -> None:
    private = rsa_key()
    path = tmp_path / "idp.pem"
    path.write_bytes(public_pem(private))
    verifier = load_verifier(settings(tmp_path, jwt_public_key_path=path))
    good = jwt.encode(claims(), private, algorithm="RS256")
    assert verifier.verify(good).sub == "anna"
    for algorithm in ("RS384", "PS256"):
        with pytest.raises(TokenRefused, match="not accepted"):
            verifier.verify(jwt.encode(claims(), private, algorithm=algorithm))
    forged = Ed25519PrivateKey.generate()
    with pytest.raises(TokenRefused, match="not accepted"):
        verifier.verify(jwt.encode(claims(), forged, algorithm="EdDSA"))


def test_hs256_signed_with_the_public_key_never_verifies(tmp_path: Path) -> None:
    from tests.api.test_authorization_matrix import hs256_jwt, unsigned_jwt

    private = rsa_key()
    path = tmp_path / "idp.pem"
    path.write_bytes(public_pem(private))
    verifier = load_verifier(settings(tmp_path, jwt_public_key_path=path))
    with pytest.raises(TokenRefused, match="not accepted"):
        verifier.verify(hs256_jwt(claims(), public_pem(private)))
    with pytest.raises(TokenRefused, match="not accepted"):
        verifier.verify(unsigned_jwt({"alg": "none"}, claims()))


def test_only_the_configured_algorithms(tmp_path: Path) -> None:
    path = tmp_path / "idp.pem"
    path.write_bytes(public_pem(rsa_key()))
    with pytest.raises(AuthConfigError, match="BOENDE_JWT_ALGORITHMS"):
        load_verifier(
            settings(tmp_path, jwt_public_key_path=path, jwt_algorithms=["EdDSA"])
        )


def test_a_jwks_file_picks_the_key_by_kid(tmp_path: Path) -> None:
    rsa_private, ed_private = rsa_key(), Ed25519PrivateKey.generate()
    keys = [
        RSAAlgorithm.to_jwk(rsa_private.public_key(), as_dict=True)
        | {"kid": "rsa-1", "use": "sig", "alg": "RS256"},
        OKPAlgorithm.to_jwk(ed_private.public_key(), as_dict=True)
        | {"kid": "ed-1", "use": "sig", "alg": "EdDSA"},
        OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key(), as_dict=True)
        | {"kid": "ed-enc", "use": "enc"},  # not for signatures: skipped
    ]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    verifier = load_verifier(settings(tmp_path, jwks_path=path))
    assert {k.kid for k in verifier.keys} == {"rsa-1", "ed-1"}
    rs = jwt.encode(claims(), rsa_private, "RS256", headers={"kid": "rsa-1"})
    ed = jwt.encode(claims(sub="bo"), ed_private, "EdDSA", headers={"kid": "ed-1"})
    assert verifier.verify(rs).sub == "anna"
    assert verifier.verify(ed).sub == "bo"
    stranger = jwt.encode(claims(), Ed25519PrivateKey.generate(), "EdDSA")
    with pytest.raises(TokenRefused, match="signature"):
        verifier.verify(stranger)


def test_audience_and_issuer_when_configured(tmp_path: Path) -> None:
    config = settings(tmp_path, jwt_audience="boende", jwt_issuer="https://idp")
    key = load_or_create_dev_key(config)
    verifier = load_verifier(config)
    good = claims(aud="boende", iss="https://idp")
    assert verifier.verify(jwt.encode(good, key, "EdDSA")).sub == "anna"
    for bad in (claims(), claims(aud="other", iss="https://idp"), claims(aud="boende")):
        with pytest.raises(TokenRefused):
            verifier.verify(jwt.encode(bad, key, "EdDSA"))


# -- production ------------------------------------------------------------------------


def production(tmp_path: Path, **overrides: Any) -> Settings:
    return settings(tmp_path, environment="production", **overrides)


def test_production_refuses_auth_off_and_a_missing_key(tmp_path: Path) -> None:
    off = production(tmp_path).model_copy(update={"auth": "off"})
    with pytest.raises(AuthConfigError, match="BOENDE_AUTH=off"):
        check_configuration(off)
    with pytest.raises(AuthConfigError, match="BOENDE_JWKS_PATH"):
        check_configuration(production(tmp_path))
    assert (
        check_configuration(settings(tmp_path).model_copy(update={"auth": "off"}))
        is None
    )


def test_production_refuses_the_development_key(tmp_path: Path) -> None:
    dev = load_or_create_dev_key(settings(tmp_path))
    marked = dev_key_path(settings(tmp_path)).with_name("jwt_dev.pub")
    with pytest.raises(DevelopmentKeyRefused):
        load_verifier(production(tmp_path, jwt_public_key_path=marked))
    unmarked = tmp_path / "copied.pem"  # the same key without its comment
    unmarked.write_bytes(public_pem(dev))
    with pytest.raises(DevelopmentKeyRefused):
        load_verifier(production(tmp_path, jwt_public_key_path=unmarked))
    jwks = tmp_path / "jwks.json"
    jwk = OKPAlgorithm.to_jwk(dev.public_key(), as_dict=True) | {"kid": "dev"}
    jwks.write_text(json.dumps({"keys": [jwk]}))
    with pytest.raises(DevelopmentKeyRefused):
        load_verifier(production(tmp_path, jwks_path=jwks))
    with pytest.raises(DevelopmentKeyRefused):
        load_or_create_dev_key(production(tmp_path))


def test_production_accepts_the_identity_providers_key(tmp_path: Path) -> None:
    load_or_create_dev_key(settings(tmp_path))  # a developer's key is around
    private = rsa_key()
    path = tmp_path / "idp.pem"
    path.write_bytes(public_pem(private))
    verifier = load_verifier(production(tmp_path, jwt_public_key_path=path))
    assert verifier.verify(jwt.encode(claims(), private, "RS256")).sub == "anna"
