"""Who may name whom as ``actor.user`` (``services.submission.submitters``),
and a token's lifetime judged at a Kafka message's own time
(``infra.auth.Verifier.verify(at=...)``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import Forbidden
from infra.auth import (
    DEV_ISSUER,
    Principal,
    TokenRefused,
    VerificationKey,
    Verifier,
    key_id,
    load_verifier,
    mint,
)
from infra.settings import Settings
from services.cli import main as cli
from services.cli.stack import case_system_tokens
from services.submission.submitters import submitted_by


def person(sub: str, *roles: str) -> Principal:
    return Principal(sub, frozenset(roles), issuer="idp")


def system(committee: str | None) -> Principal:
    return Principal(
        "treserva", frozenset({"case_system"}), issuer="idp", committee=committee
    )


def test_a_person_may_name_itself_and_is_recorded_with_its_issuer() -> None:
    recorded = submitted_by(person("officer-a", "ifn_officer"), "IFN", "officer-a")
    assert recorded == {"sub": "officer-a", "iss": "idp"}
    no_issuer = Principal("bo", frozenset({"aln_officer"}))
    assert submitted_by(no_issuer, "ALN", "bo") == {"sub": "bo"}


def test_a_person_naming_another_officer_is_forbidden() -> None:
    with pytest.raises(Forbidden) as refusal:
        submitted_by(person("officer-a", "ifn_officer"), "IFN", "chef-bob")
    assert "may only name itself" in refusal.value.message
    assert "officer-a" in refusal.value.message
    assert refusal.value.details == {"committee": "IFN"}


def test_a_case_system_names_any_officer_of_its_own_committee_only() -> None:
    assert submitted_by(system("IFN"), "IFN", "chef-bob") == {
        "sub": "treserva",
        "iss": "idp",
    }
    with pytest.raises(Forbidden) as refusal:
        submitted_by(system("ALN"), "IFN", "chef-bob")
    assert "bound to ALN" in refusal.value.message
    with pytest.raises(Forbidden) as unbound:
        submitted_by(system(None), "IFN", "chef-bob")
    assert "claim committee is missing" in unbound.value.message


@pytest.mark.parametrize(
    ("principal", "committee", "needed"),
    [
        (person("a", "aln_officer"), "IFN", "needs the role ifn_officer"),
        (person("a", "ifn_officer"), "ALN", "needs the role aln_officer"),
        (person("a", "oversight"), "IFN", "or case_system bound to IFN"),
        (system("IFN"), "KS", "needs no role (it submits nothing)"),
    ],
)
def test_the_wrong_role_is_forbidden(
    principal: Principal, committee: str, needed: str
) -> None:
    with pytest.raises(Forbidden) as refusal:
        submitted_by(principal, committee, "a")
    assert needed in refusal.value.message


def test_auth_off_records_that_nobody_was_authenticated() -> None:
    off = Principal("anonymous (auth off)", frozenset(), authenticated=False)
    assert submitted_by(off, "KS", "anyone") == {"sub": "anonymous (auth off)"}


# -- the lifetime at a message's own time ------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)
LEEWAY = 30


@pytest.fixture
def signer(tmp_path: Path) -> tuple[Ed25519PrivateKey, Verifier]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    settings = Settings(data_dir=tmp_path, jwt_leeway_seconds=LEEWAY)
    return key, Verifier([VerificationKey(public, "EdDSA", key_id(public))], settings)


def token(key: Ed25519PrivateKey, issued: datetime, minutes: int) -> str:
    return mint(key, "treserva", ["case_system"], timedelta(minutes=minutes), issued)


def test_a_token_expired_now_holds_for_a_message_produced_in_its_lifetime(
    signer: tuple[Ed25519PrivateKey, Verifier],
) -> None:
    key, verifier = signer
    expired = token(key, NOW - timedelta(hours=2), 60)  # exp: an hour ago
    with pytest.raises(TokenRefused, match="expired"):
        verifier.verify(expired)
    produced = NOW - timedelta(hours=1, seconds=LEEWAY)  # at exp + leeway
    assert verifier.verify(expired, at=produced).sub == "treserva"


def test_a_message_produced_after_exp_and_leeway_is_refused(
    signer: tuple[Ed25519PrivateKey, Verifier],
) -> None:
    key, verifier = signer
    expired = token(key, NOW - timedelta(hours=2), 60)
    late = NOW - timedelta(hours=1) + timedelta(seconds=LEEWAY + 1)
    with pytest.raises(TokenRefused, match="had expired when the message"):
        verifier.verify(expired, at=late)


def test_a_message_dated_before_its_token_was_issued_is_refused(
    signer: tuple[Ed25519PrivateKey, Verifier],
) -> None:
    """A producer sets its messages' time: a stolen token cannot be made to
    cover a message dated before the token existed."""
    key, verifier = signer
    fresh = token(key, NOW, 60)
    assert verifier.verify(fresh, at=NOW - timedelta(seconds=LEEWAY)).sub
    with pytest.raises(TokenRefused, match="before its bearer token was issued"):
        verifier.verify(fresh, at=NOW - timedelta(seconds=LEEWAY + 1))


def test_a_message_dated_in_the_future_is_judged_now(
    signer: tuple[Ed25519PrivateKey, Verifier],
) -> None:
    key, verifier = signer
    fresh = token(key, NOW, 60)
    assert verifier.verify(fresh, at=NOW + timedelta(days=2)).sub == "treserva"
    expired = token(key, NOW - timedelta(hours=2), 60)
    with pytest.raises(TokenRefused, match="expired"):
        verifier.verify(expired, at=NOW + timedelta(days=2))


def test_the_claims_bind_a_case_system_to_its_committee(
    signer: tuple[Ed25519PrivateKey, Verifier],
) -> None:
    key, verifier = signer
    bound = mint(
        key, "treserva", ["case_system"], timedelta(minutes=5), iss="idp",
        committee="IFN",
    )  # fmt: skip
    principal = verifier.verify(bound)
    assert (principal.issuer, principal.committee) == ("idp", "IFN")
    odd = mint(key, "x", ["case_system"], timedelta(minutes=5), committee=["IFN"])
    with pytest.raises(TokenRefused, match="committee must be a name"):
        verifier.verify(odd)


# -- minting them in development -------------------------------------------------


def test_the_stack_prints_a_bound_case_system_token_per_committee(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    tokens = case_system_tokens(settings)
    verifier = load_verifier(settings)
    for committee, token in tokens.items():
        principal = verifier.verify(token)
        assert principal.committee == committee
        assert principal.roles == {"case_system"}
        assert principal.issuer == DEV_ISSUER
    assert sorted(tokens) == ["ALN", "IFN"]
    assert case_system_tokens(settings.model_copy(update={"auth": "off"})) == {}


def test_boende_token_binds_a_case_system_to_one_committee(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOENDE_DATA_DIR", str(tmp_path / "var"))
    assert cli.main(["token", "--role", "case_system", "--sub", "t"]) == 2
    assert "needs --committee" in capsys.readouterr().err
    argv = ["token", "--role", "ifn_officer", "--sub", "t", "--committee", "IFN"]
    assert cli.main(argv) == 2
    argv = ["token", "--role", "case_system", "--sub", "t", "--committee", "ALN"]
    assert cli.main(argv) == 0
    token = capsys.readouterr().out.strip()
    principal = load_verifier(Settings(data_dir=tmp_path / "var")).verify(token)
    assert (principal.sub, principal.committee) == ("t", "ALN")
