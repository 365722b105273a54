"""``boende doctor`` on real installations: a fresh data dir after a start
(OK, exit 0), one it cannot write into or a database it cannot reach (FAIL,
exit 1), read models behind the log (WARN), development keys in production
(FAIL). It makes nothing and prints no secret."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.settings import Settings
from infra.signing import load_or_create_signer
from services.audit.log import signing_key_path
from services.bootstrap import bootstrap
from services.cli import doctor
from services.cli.main import main
from tests.conftest import free_port
from tests.integration.test_projection_crash import fill

Doctor = Callable[..., tuple[int, list[str]]]


@pytest.fixture
def run_doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Doctor:
    """``boende doctor`` with these settings as environment variables (and
    none of the test suite's own, such as BOENDE_AUTH=off): its exit status
    and its lines."""

    def run(settings: Settings, **env: str) -> tuple[int, list[str]]:
        for name in [n for n in os.environ if n.startswith("BOENDE_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("BOENDE_DATA_DIR", str(settings.data_dir))
        if settings.database_url:
            monkeypatch.setenv("BOENDE_DATABASE_URL", settings.database_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        status = main(["doctor"])
        return status, capsys.readouterr().out.splitlines()

    return run


def statuses(lines: list[str]) -> dict[str, str]:
    """``{subject: status}`` of the check lines."""
    checks = [line.split(None, 1) for line in lines[1:-1]]
    return {rest.split(":", 1)[0]: status for status, rest in checks}


def test_a_started_installation_is_ok(
    store_settings: Settings, run_doctor: Doctor
) -> None:
    bootstrap(store_settings).close()
    status, lines = run_doctor(store_settings)
    assert status == 0, lines
    found = statuses(lines)
    assert found.pop("kafka") == "SKIP"  # BOENDE_KAFKA_BOOTSTRAP is not set
    assert set(found.values()) == {"OK"}, lines
    assert {"data dir", "event store", "read model counts", "master key"} <= set(found)
    assert "0 failed, 0 to look at" in lines[-1]


def test_a_fresh_data_dir_is_looked_at_not_made(
    tmp_path: Path, run_doctor: Doctor
) -> None:
    data_dir = tmp_path / "var"
    status, lines = run_doctor(Settings(data_dir=data_dir))
    assert status == 0, lines
    assert statuses(lines)["data dir"] == "WARN"
    assert statuses(lines)["event store"] == "WARN"
    assert not data_dir.exists()  # no dir, no key, no table made


def test_a_data_dir_that_is_a_file_fails(tmp_path: Path, run_doctor: Doctor) -> None:
    occupied = tmp_path / "var"
    occupied.write_text("not a directory")
    status, lines = run_doctor(Settings(data_dir=occupied))
    assert status == 1
    assert statuses(lines)["data dir"] == "FAIL"
    assert "1 failed" in lines[-1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only dirs")
def test_a_data_dir_it_cannot_write_into_fails(
    sqlite_settings: Settings, run_doctor: Doctor
) -> None:
    bootstrap(sqlite_settings).close()
    sqlite_settings.data_dir.chmod(0o500)
    try:
        status, lines = run_doctor(sqlite_settings)
    finally:
        sqlite_settings.data_dir.chmod(0o700)
    assert status == 1
    assert statuses(lines)["data dir"] == "FAIL"
    assert any("is not writable" in line for line in lines)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_directory_no_one_can_write_into_fails_even_for_root(
    run_doctor: Doctor,
) -> None:
    status, lines = run_doctor(Settings(data_dir=Path("/proc")))
    assert status == 1
    assert statuses(lines)["data dir"] == "FAIL"
    assert "/proc is not writable by this user" in "\n".join(lines)


def test_a_database_on_a_closed_port_fails_without_showing_its_password(
    tmp_path: Path, run_doctor: Doctor
) -> None:
    url = f"postgresql://boende:s3cret-pw@127.0.0.1:{free_port()}/boende"
    status, lines = run_doctor(Settings(data_dir=tmp_path / "var", database_url=url))
    assert status == 1
    found = statuses(lines)
    assert found["event store"] == "FAIL"
    assert found["read models"] == "SKIP"
    assert not any("s3cret-pw" in line for line in lines)


def test_read_models_behind_the_log_are_warned_about(
    store_settings: Settings, run_doctor: Doctor
) -> None:
    boende = bootstrap(store_settings)  # no follower: the read models stay at 0
    try:
        fill(boende, 40)
        end = boende.app.recorder.max_notification_id() or 0
        boende.runner("counts").catch_up()
    finally:
        boende.close()
    status, lines = run_doctor(store_settings)
    assert status == 0, lines
    found = statuses(lines)
    assert found["read model counts"] == "OK"
    assert found["read model audit"] == "WARN"
    assert any(f"{end:,} positions behind the log" in line for line in lines)


def test_production_with_development_keys_fails_as_the_services_would(
    sqlite_settings: Settings, run_doctor: Doctor
) -> None:
    bootstrap(sqlite_settings).close()  # a development process made the keys
    load_or_create_signer(signing_key_path(sqlite_settings), "development")
    status, lines = run_doctor(sqlite_settings, BOENDE_ENVIRONMENT="production")
    assert status == 1
    found = statuses(lines)
    assert found["master key"] == found["index key"] == "FAIL"
    assert found["audit signing key"] == "FAIL"
    assert found["tokens"] == "FAIL"  # production needs the identity provider's key
    assert any("generated by a development process" in line for line in lines)
    assert not any("BEGIN" in line or "PRIVATE" in line for line in lines)


def test_a_lost_master_key_fails_once_the_log_has_events(
    sqlite_settings: Settings, run_doctor: Doctor
) -> None:
    boende = bootstrap(sqlite_settings)
    try:
        fill(boende, 10)
    finally:
        boende.close()
    moved = sqlite_settings.data_dir / "elsewhere.key"
    (sqlite_settings.data_dir / "keys" / "master.key").rename(moved)
    status, lines = run_doctor(sqlite_settings)
    assert status == 1
    assert statuses(lines)["master key"] == "FAIL"


def test_kafka_is_checked_only_when_configured_and_briefly(
    sqlite_settings: Settings, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap(sqlite_settings).close()
    monkeypatch.setattr(doctor, "TIMEOUT_S", 1)
    closed = f"127.0.0.1:{free_port()}"
    status, lines = run_doctor(sqlite_settings, BOENDE_KAFKA_BOOTSTRAP=closed)
    assert status == 1
    assert statuses(lines)["kafka"] == "FAIL"
    assert any(f"{closed} not reachable in 1 s" in line for line in lines)


def test_an_unknown_time_zone_fails(
    sqlite_settings: Settings, run_doctor: Doctor
) -> None:
    status, lines = run_doctor(sqlite_settings, BOENDE_TIMEZONE="Europe/Atlantis")
    assert status == 1
    assert statuses(lines)["clock"] == "FAIL"


def test_settings_it_cannot_read_fail_without_their_values(
    tmp_path: Path, run_doctor: Doctor
) -> None:
    url = "mysql://boende:s3cret-pw@db/boende"
    status, lines = run_doctor(
        Settings(data_dir=tmp_path / "var"), BOENDE_DATABASE_URL=url
    )
    assert status == 1
    assert lines[0].startswith("FAIL  settings: BOENDE_DATABASE_URL")
    assert not any("s3cret-pw" in line for line in lines)
