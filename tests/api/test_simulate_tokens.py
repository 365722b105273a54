"""The simulator sends as two case systems (``services.simulation.tokens``):
each committee's envelopes with a ``case_system`` token bound to that
committee, so every fact records who sent it. Against the real app with
token checks on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.auth import DEV_ISSUER, mint_dev_token
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.simulation.player import plan, send
from services.simulation.tokens import committee_tokens, token_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", auth="jwt")


@pytest.fixture
def running(settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(settings)
    yield boende
    boende.close()


def test_without_tokens_given_it_mints_one_per_committee_and_is_recorded(
    running: Boende, settings: Settings
) -> None:
    world = plan(2, seed=3, invalid_share=0.05)
    tokens = committee_tokens(None, settings)
    assert sorted(tokens) == ["ALN", "IFN"]
    with TestClient(create_app(running)) as client:
        sent = send(
            world.envelopes, client, expect_valid=world.expectations, tokens=tokens
        )
    assert sent.unexpected == 0
    stored = running.app.recorder.select_notifications(None, 100_000)
    by_committee = {
        (state["committee"], state["submitted_by"]["sub"], state["submitted_by"]["iss"])
        for state in (json.loads(n.state) for n in stored)
    }
    assert by_committee == {
        ("IFN", "simulator-ifn", DEV_ISSUER),
        ("ALN", "simulator-aln", DEV_ISSUER),
    }


def test_given_tokens_are_matched_by_their_committee_claim(settings: Settings) -> None:
    hour = timedelta(hours=1)
    ifn = mint_dev_token(settings, "treserva", ["case_system"], hour, committee="IFN")
    person = mint_dev_token(settings, "anna", ["ifn_officer", "aln_officer"], hour)
    tokens = committee_tokens([person, f"Bearer {ifn}"], settings)
    assert tokens == {"IFN": f"Bearer {ifn}", "ALN": f"Bearer {person}"}
    aln_envelope = {"actor": {"committee": "ALN", "user": "x"}}
    assert token_for(tokens, aln_envelope) == f"Bearer {person}"
    assert token_for(tokens, {"actor": {"committee": "KS"}}) is None
    off = settings.model_copy(update={"auth": "off"})
    assert committee_tokens(None, off) == {}
