"""One clock for every rule that reads "today": ``BOENDE_TODAY`` in tests
(``tests/conftest.py`` fixes it), the municipality's date otherwise; never a
fixed day in production."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import clock, local_today
from services.cli import main as cli
from tests.conftest import TODAY, envelope, stockholm_today


def test_the_tests_run_on_a_fixed_day() -> None:
    assert Settings().today == TODAY == stockholm_today()
    assert clock(Settings())() == TODAY


def test_without_a_fixed_day_the_clock_is_the_municipality_s(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, today=None)
    assert clock(settings)() == local_today("Europe/Stockholm")()


def test_the_no_future_dates_rule_reads_the_clock(client: TestClient) -> None:
    tomorrow = envelope("application_filed", "c-clock-1", TODAY + timedelta(days=1))
    refused = client.post("/v1/submissions", json=tomorrow)
    assert refused.status_code == 422
    today = envelope("application_filed", "c-clock-2", TODAY)
    assert client.post("/v1/submissions", json=today).status_code == 201


def test_serve_refuses_a_fixed_day_in_production(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    public = tmp_path / "idp.pub"  # a provisioned key: the token check passes
    public.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    monkeypatch.setenv("BOENDE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BOENDE_ENVIRONMENT", "production")
    monkeypatch.setenv("BOENDE_AUTH", "jwt")
    monkeypatch.setenv("BOENDE_JWT_PUBLIC_KEY_PATH", str(public))
    monkeypatch.setenv("BOENDE_TODAY", date(2025, 1, 1).isoformat())
    assert cli.main(["serve"]) == 2
    assert "BOENDE_TODAY" in capsys.readouterr().err
