"""``boende doctor``: what an installation needs, checked and said in words.

One line per check, ``OK``, ``WARN`` or ``FAIL`` (``SKIP`` when it does not
apply here), then what was checked and what was found: the data dir, the
event store, each read model's lag behind the log, the keys, Kafka, the
clock. The exit status is 0 when nothing failed, 1 otherwise.

The doctor changes nothing it can avoid changing: it makes no key, no table
and no file. It opens the event store only if there is one (and says so), and
reads the read models' positions read-only. It prints paths, counts and
positions, never a key, a password, a personnummer or a name. Every wait on
the network (PostgreSQL, Kafka) is bounded by ``TIMEOUT_S``.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from infra import keyfiles
from infra.auth import AuthConfigError, dev_key_path, load_verifier, read_private_key
from infra.keys import KEY_BYTES, pseudonym_key_path, read_pseudonym_key
from infra.person_keys import key_paths, load_key
from infra.settings import Settings
from infra.signing import load_signer
from infra.store import NO_NEW_TABLES, CaseLog
from infra.views import peek_position
from services.audit.log import signing_key_path
from services.bootstrap import PROJECTIONS, local_today
from services.cli.parsing import Commands, command

TIMEOUT_S = 5


@dataclass(frozen=True)
class Check:
    """One thing checked: ``OK``, ``WARN``, ``FAIL`` or ``SKIP``, and what."""

    status: str
    subject: str
    finding: str

    def line(self) -> str:
        return f"{self.status:<5} {self.subject}: {self.finding}"


def add_doctor_command(commands: Commands) -> None:
    """Add ``boende doctor`` to ``boende``'s parser."""
    command(
        commands,
        "doctor",
        "check this installation, one line per check",
        doctor,
        "Checks the data dir, the event store, each read model's lag, the "
        "keys (and, in production, that none is a development key), Kafka "
        "when BOENDE_KAFKA_BOOTSTRAP is set, and the time zone. Says OK, WARN "
        "or FAIL for each; exits 1 if any check fails. Makes no key and no "
        "table, and prints no secret and no personal data.",
    )


def doctor(_: argparse.Namespace) -> int:
    """Print every check; 1 if any failed."""
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors(include_input=False, include_url=False):
            name = "BOENDE_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(Check("FAIL", "settings", f"{name}: {problem['msg']}").line())
        return 1
    print(f"boende doctor: {settings.environment}, {_where(settings)}")
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    failed = sum(check.status == "FAIL" for check in checks)
    warned = sum(check.status == "WARN" for check in checks)
    print(f"{failed} failed, {warned} to look at, {len(checks)} checks")
    return 1 if failed else 0


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would look."""
    store, log_end = event_store(settings)
    return [
        data_dir(settings),
        store,
        *read_models(settings, log_end),
        *key_files(settings, log_end),
        token_keys(settings),
        kafka(settings),
        clock(settings),
    ]


# -- the data dir and the store --------------------------------------------------


def data_dir(settings: Settings) -> Check:
    """The data dir exists (or can be made) and a file can be written in it."""
    path = settings.data_dir.resolve()
    if path.exists() and not path.is_dir():
        return Check("FAIL", "data dir", f"{path} is not a directory")
    if not path.exists():
        parent = next(p for p in path.parents if p.exists())
        if _writable(parent):
            return Check(
                "WARN", "data dir", f"{path} does not exist yet (made on start)"
            )
        return Check("FAIL", "data dir", f"{path} is missing and {parent} is read-only")
    if not _writable(path):
        return Check("FAIL", "data dir", f"{path} is not writable by this user")
    return Check("OK", "data dir", f"{path} is a writable directory")


def _writable(directory: Path) -> bool:
    """Whether a file can be made here: tried, since ``os.access`` says yes
    to root even on a read-only mount. The file has no name and is gone."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def event_store(settings: Settings) -> tuple[Check, int | None]:
    """The store reachable and its log readable; the log's last position
    (0: no log yet; None: unreadable)."""
    where = _where(settings)
    if settings.database_url is None:
        if not settings.sqlite_path("caselog").exists():
            return Check("WARN", "event store", f"no case log yet ({where})"), 0
    else:
        try:
            psycopg.connect(settings.database_url, connect_timeout=TIMEOUT_S).close()
        except psycopg.Error as error:
            return Check("FAIL", "event store", f"{where}: {_first_line(error)}"), None
    try:
        count, end = _case_log(settings)
    except (PersistenceError, sqlite3.Error, psycopg.Error) as error:
        if isinstance(error.__cause__, psycopg.errors.UndefinedTable):
            return Check("WARN", "event store", f"no case log yet ({where})"), 0
        finding = f"{where} holds no readable case log: {_first_line(error)}"
        return Check("FAIL", "event store", finding), None
    finding = f"{count:,} events, last position {end:,} ({where}; opened to read)"
    return Check("OK", "event store", finding), end


def _case_log(settings: Settings) -> tuple[int, int]:
    """How many events the log holds, and its last position: the store
    opened as the services open it, but not allowed to make its tables."""
    app = CaseLog(env=settings.eventsourcing_env() | NO_NEW_TABLES)
    try:
        end = app.recorder.max_notification_id() or 0
        return app.event_count(up_to=end), end
    finally:
        app.close()


def read_models(settings: Settings, log_end: int | None) -> list[Check]:
    """Each read model's position against the log's end."""
    if log_end is None:
        return [Check("SKIP", "read models", "the case log could not be read")]
    return [_lag(settings, projection.name, log_end) for projection in PROJECTIONS]


def _lag(settings: Settings, name: str, log_end: int) -> Check:
    subject = f"read model {name}"
    try:
        position = peek_position(settings, name, TIMEOUT_S)
    except (sqlite3.Error, psycopg.Error) as error:
        return Check("FAIL", subject, f"cannot read its position: {_first_line(error)}")
    if position is None:
        status = "WARN" if log_end else "OK"
        return Check(status, subject, "not built yet (built on start)")
    if position < log_end:
        behind = f"{log_end - position:,} positions behind the log"
        where = f"at {position:,} of {log_end:,}"
        ask = "is 'boende serve' or 'boende project' running?"
        return Check("WARN", subject, f"{behind} ({where}); {ask}")
    return Check("OK", subject, f"up to date (position {position:,})")


# -- keys ------------------------------------------------------------------------


def key_files(settings: Settings, log_end: int | None) -> list[Check]:
    """Each key file present, usable and, in production, not a development
    key: the checks the services make when they load them."""
    env = settings.environment
    master, index = key_paths(settings)
    filled = bool(log_end)  # the person keys are made before any event is

    def signer_origin(path: Path) -> str:
        return load_signer(path, env).origin

    def person_key_origin(path: Path) -> str:
        return load_key(path, env)

    def pseudonym(path: Path) -> str | None:
        read_pseudonym_key(path, env)
        raw = path.stat().st_size == KEY_BYTES  # the first format: no origin
        return None if raw else keyfiles.read(path).origin

    return [
        _key("audit signing key", signing_key_path(settings), env, signer_origin),
        _key("master key", master, env, person_key_origin, filled),
        _key("index key", index, env, person_key_origin, filled),
        _key("pseudonym key", pseudonym_key_path(settings.data_dir), env, pseudonym),
    ]


def _key(
    subject: str,
    path: Path,
    environment: str,
    load: Callable[[Path], str | None],
    needed: bool = False,
) -> Check:
    """``path`` loaded as its service loads it (``load``: what made it)."""
    if not path.exists():
        if needed:
            lost = "what was sealed under it cannot be read: restore it from backup"
            return Check(
                "FAIL", subject, f"{path} is missing, yet there are events; {lost}"
            )
        if environment == "production":
            made = "the first start makes one: provision it instead, and back it up"
            return Check("WARN", subject, f"{path} not there yet ({made})")
        return Check("OK", subject, f"{path} not there yet (made on first use)")
    try:
        origin = load(path)
    except (OSError, RuntimeError) as error:  # the loaders' refusals
        return Check("FAIL", subject, _first_line(error))
    made_by = f", generated by a {origin} process" if origin in _PROCESSES else ""
    return Check("OK", subject, f"{path}{made_by}")


_PROCESSES = ("development", "production")  # what key files say made them


def token_keys(settings: Settings) -> Check:
    """The keys bearer tokens are checked with, as ``boende serve`` loads them;
    the development key only looked at, never made."""
    production = settings.environment == "production"
    if settings.auth == "off":
        if production:
            return Check(
                "FAIL", "tokens", "BOENDE_AUTH=off: production checks every token"
            )
        return Check("WARN", "tokens", "BOENDE_AUTH=off: every request is let in")
    if production or settings.jwks_path or settings.jwt_public_key_path:
        try:
            verifier = load_verifier(settings)  # makes nothing in these cases
        except AuthConfigError as error:
            return Check("FAIL", "tokens", _first_line(error))
        source = settings.jwks_path or settings.jwt_public_key_path
        return Check("OK", "tokens", f"{len(verifier.keys)} key(s) from {source}")
    path = dev_key_path(settings)
    if not path.exists():
        return Check(
            "OK", "tokens", f"development key {path} not there yet (made on first use)"
        )
    try:
        read_private_key(path)
    except AuthConfigError as error:
        return Check("FAIL", "tokens", _first_line(error))
    return Check("OK", "tokens", f"development key {path} (development only)")


# -- Kafka and the clock -----------------------------------------------------------


def kafka(settings: Settings) -> Check:
    """The cluster reachable and the topics there, when one is configured."""
    if "kafka_bootstrap" not in settings.model_fields_set:
        return Check(
            "SKIP", "kafka", "not configured (BOENDE_KAFKA_BOOTSTRAP is not set)"
        )
    from kafka.errors import KafkaError  # only when it is asked (slow to import)

    from infra.kafka import TOPICS

    where = settings.kafka_bootstrap
    try:
        with _quiet("kafka"):
            listed = _listed_topics(settings)
    except KafkaError as error:
        return Check(
            "FAIL", "kafka", f"{where} not reachable in {TIMEOUT_S} s: {error}"
        )
    missing = [topic for topic in TOPICS if topic not in listed]
    if missing:
        make = "'boende topics create' makes them"
        return Check(
            "WARN", "kafka", f"{where} reachable; no {', '.join(missing)}: {make}"
        )
    return Check("OK", "kafka", f"{where} reachable; {', '.join(TOPICS)} exist")


def _listed_topics(settings: Settings) -> set[str]:
    from kafka import KafkaAdminClient

    from infra.kafka import client_config

    timeout_ms = TIMEOUT_S * 1000
    admin = KafkaAdminClient(
        **client_config(settings),
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def clock(settings: Settings) -> Check:
    """The municipality's time zone exists; today's date in it."""
    try:
        today = local_today(settings.timezone)()
    except (ZoneInfoNotFoundError, ValueError):
        finding = f"BOENDE_TIMEZONE {settings.timezone!r} is not a known time zone"
        return Check("FAIL", "clock", finding)
    offset = datetime.now(ZoneInfo(settings.timezone)).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    return Check("OK", "clock", f"{settings.timezone} ({utc}): today is {today}")


# -- helpers ---------------------------------------------------------------------


def _where(settings: Settings) -> str:
    """The store, named without its user or password."""
    if settings.database_url is None:
        return f"SQLite {settings.sqlite_path('caselog')}"
    parts = urlsplit(settings.database_url)
    database = parts.path.lstrip("/") or "postgres"
    return f"PostgreSQL {parts.hostname or '127.0.0.1'}:{parts.port or 5432}/{database}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """A library's logger kept to itself while it is asked something that
    may fail: the check says what went wrong, once."""
    library = logging.getLogger(logger)
    level = library.level
    library.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        library.setLevel(level)
