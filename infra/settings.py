"""The one settings object, read from ``BOENDE_*`` environment variables.

Nothing else in Boende reads ``os.environ``: the composition root turns these
into the ``eventsourcing`` library's own settings (``PERSISTENCE_MODULE``,
``SQLITE_DBNAME``, ``POSTGRES_*``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of Boende; README.md has the table."""

    model_config = SettingsConfigDict(env_prefix="BOENDE_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    timezone: str = "Europe/Stockholm"
    # The municipality's "today" for every rule that depends on it (no future
    # dates, retention, the three-month rule): unset, today in `timezone`. A
    # fixed day is for tests and for replaying a past day; `boende serve`
    # refuses it in production.
    today: date | None = None
    # Facts dated before this day are refused (422): no case system holds
    # social contracts from earlier, and a typo like 0001-01-01 must not count.
    earliest_day: date = date(1990, 1, 1)
    # The district code list (`code;name` lines), a file under data_dir; unset,
    # the list shipped in domain.districts. An unknown district is refused.
    districts_file: Path | None = None
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    commit_batch_max: int = Field(default=256, ge=1)
    # POST /v1/submissions/batch: most envelopes in one batch (413 above); its
    # body may hold that many envelopes of max_body_bytes each (batch_max_bytes).
    batch_max: int = Field(default=1000, ge=1, le=100_000)
    aggregate_cache_size: int = Field(default=10_000, ge=0)
    log_level: str = "INFO"
    # Log lines: "text" or "json" (one object per line); unset, JSON in
    # production and text in development (infra.logs).
    log_format: Literal["text", "json"] | None = None
    # Prometheus metrics (infra.metrics) on a listener of their own, never the
    # API's: unset, no metrics are served. Each process (serve, ingest, relay,
    # project) needs its own port; `make stack` gives the workers the next ones.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    run_projections: bool = True
    projection_poll_seconds: float = Field(default=0.05, gt=0)
    projection_batch_size: int = Field(default=1000, ge=1)
    # Processes sharing a rebuild's replay (``boende projections rebuild``);
    # 0: one per core this process may run on.
    rebuild_processes: int = Field(default=0, ge=0)
    read_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    # A min_position further than this beyond the log's last position is
    # refused at once (409 position_not_recorded): no write in flight can
    # reach it.
    min_position_window: int = Field(default=1000, ge=0)
    # Outages: how long a request waits for the database (a connection, the
    # readiness probe) before 503 unavailable, and how long a submission
    # waits in the writer's queue before it gives up (503, never recorded).
    store_wait_seconds: int = Field(default=2, ge=1, le=60)
    submission_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    # Slow clients (infra.http_server): a request's head and body must
    # arrive within this; at most this many connections are held open.
    http_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_max_connections: int = Field(default=1000, ge=1)
    # HTTP server processes (`boende serve --workers N`); above 1 the read
    # models follow the log in one `boende project` that serve starts
    # beside them, not in each worker. The connection cap is per worker.
    web_workers: int = Field(default=1, ge=1, le=64)
    # Audit proofs: the Ed25519 key that signs tree heads (default
    # <data_dir>/keys/audit_signing.key) and how often the API signs one
    # (minutes; 0 = only on demand).
    signing_key_path: Path | None = None
    tree_head_interval_minutes: int = Field(default=60, ge=0)
    # Every signed head is also written here, one file each, never
    # overwritten (infra.head_mirror), where a restore of the database
    # does not reach: unset, <data_dir>-tree-heads beside the data directory.
    tree_head_mirror_dir: Path | None = None
    # Personal data (crypto-shredding): the master key that wraps each
    # person's data key (default <data_dir>/keys/master.key; the HMAC index
    # key lives beside it as person_index.key), and the retention period
    # (gallring): personal data goes this many years after a case's last fact.
    master_key_path: Path | None = None
    retention_years: int = Field(default=5, ge=1)
    # Why personal data may be read: the codes X-Purpose may name (JSON list,
    # e.g. BOENDE_PURPOSE_CODES='["handläggning","tillsyn"]'); anything else
    # is 422 purpose_required. Free text goes in X-Purpose-Note, sealed under
    # the person's key, never in clear (services.http.access).
    purpose_codes: list[str] = Field(
        default=[
            "handläggning",
            "ivo_rapportering",
            "registerutdrag",
            "tillsyn",
            "rättelse",
        ],
        min_length=1,
    )
    # The language of a report's CSV file when the request names none
    # (`lang=`, docs/reports.md): "sv" is for Excel in Swedish (`;`, a byte
    # order mark, Swedish headers and labels), "en" for programs (`,`, the
    # API's own names and codes).
    report_lang: Literal["sv", "en"] = "sv"
    # Public figures (services.reporting.suppression): counts from 1 to one
    # below this are shown as "<5". At least 3: with 2, "<2" would say 1.
    suppression_threshold: int = Field(default=5, ge=3, le=100)
    # Bearer tokens (infra.auth): verified against a JWKS file or one PEM
    # public key; in development, by default, the key `boende token` signs
    # with. "off" is for tests and local experiments: `boende serve` in
    # production refuses it (here it would also refuse the test suite's
    # production settings, which run with BOENDE_AUTH=off).
    auth: Literal["jwt", "off"] = "jwt"
    jwt_public_key_path: Path | None = None
    jwks_path: Path | None = None
    jwt_algorithms: list[Literal["RS256", "EdDSA"]] = ["RS256", "EdDSA"]
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # People's login to the oversight web (services.http.pages): OpenID
    # Connect, authorization code with PKCE, against the issuer's discovery
    # document. Unset issuer: no OIDC login (development has its own login
    # page; production then has none). The client secret is read from a file,
    # never from the environment; unset for a public client (PKCE alone). A
    # person's roles are the values of `oidc_roles_claim` (a dotted path, e.g.
    # "realm_access.roles") in the ID token or userinfo, each mapped through
    # `oidc_role_map` (JSON, provider value -> Boende role; unmapped values
    # count only when they are Boende role names). `public_url`: the address
    # people reach Boende at (https behind a proxy); unset, the request's own.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: Path | None = None
    oidc_roles_claim: str = "roles"
    oidc_role_map: dict[str, str] = {}
    oidc_scopes: str = "openid profile"
    public_url: str | None = None

    # PostgreSQL connections of the event store, per process: kept open, and
    # opened on demand beyond them. Replicas, ingest workers and the relay
    # must fit the server's max_connections together.
    postgres_pool_size: int = Field(default=2, ge=1)
    postgres_max_overflow: int = Field(default=18, ge=0)
    # One pool shared by every read model, the audit and the access-log
    # tables of a process: at most this many connections.
    postgres_view_pool_max: int = Field(default=10, ge=2)

    # Kafka (issue 4). Production points the bootstrap at a real cluster; the
    # security settings are passed through to kafka-python as they are.
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal[
        "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"
    ] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    # One partition by default: an apartment's facts and the case facts that
    # name it have different keys, so across partitions a backlog can deliver
    # an execution before its apartment's acquisition (measured: 693 of 10,000
    # valid submissions refused with 3 partitions). Raise only with a key that
    # covers the whole chain.
    kafka_topic_partitions: int = Field(default=1, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    kafka_ingest_batch_max: int = Field(default=500, ge=1)
    kafka_relay_batch_max: int = Field(default=500, ge=1)
    # The largest message the topics take (their max.message.bytes; the
    # rejected topic has a little more, for the reason's headers) and Boende's
    # producers send. Above max_body_bytes, so an oversize submission still
    # reaches the ingest and goes to the rejected topic with its bytes.
    kafka_max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024 * 1024)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        if url and urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise ValueError("BOENDE_DATABASE_URL must be postgresql://...")
        return url or None

    @field_validator("purpose_codes")
    @classmethod
    def _codes_not_text(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.fullmatch(r"[a-zåäö_]{1,40}", code):
                raise ValueError(
                    f"BOENDE_PURPOSE_CODES: {code!r} is not a code (lower-case "
                    "letters and _, at most 40): free text belongs in a note"
                )
        return codes

    @model_validator(mode="after")
    def _oidc_needs_a_client(self) -> Settings:
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("BOENDE_OIDC_ISSUER needs BOENDE_OIDC_CLIENT_ID too")
        return self

    @model_validator(mode="after")
    def _kafka_takes_what_http_refuses(self) -> Settings:
        if self.kafka_max_message_bytes <= self.max_body_bytes:
            raise ValueError(
                "BOENDE_KAFKA_MAX_MESSAGE_BYTES must exceed BOENDE_MAX_BODY_BYTES: "
                "the ingest refuses oversize submissions to the rejected topic"
            )
        return self

    @property
    def effective_log_format(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def batch_max_bytes(self) -> int:
        """The largest body of a batch: ``batch_max`` envelopes at the limit,
        each with two bytes for its separator (a newline, CR LF, a comma)."""
        return self.batch_max * (self.max_body_bytes + 2)

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def sqlite_path(self, name: str) -> Path:
        return self.data_dir / f"{name}.sqlite"

    def eventsourcing_env(self) -> dict[str, str]:
        """The ``eventsourcing`` library's settings for the case log."""
        env = {
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size),
            "AGGREGATE_CACHE_FASTFORWARD": "y",
        }
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path("caselog")),
                "SQLITE_LOCK_TIMEOUT": "10",
                "APPLICATION_RECORDER_TOPIC": "infra.store:ReceiptingSQLiteRecorder",
            }
        else:
            env |= postgres_env(self.database_url, self.store_wait_seconds) | {
                "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "APPLICATION_RECORDER_TOPIC": "infra.store:ReceiptingPostgresRecorder",
            }
        return env


def postgres_env(url: str, wait_seconds: int = 2) -> dict[str, str]:
    """``postgresql://user:pw@host:port/db`` as the library's POSTGRES_* keys;
    ``wait_seconds``: the longest wait for a pooled connection (the library
    calls it POSTGRES_CONNECT_TIMEOUT), so an outage is a prompt 503."""
    parts = urlsplit(url)
    env = {
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": str(wait_seconds),
        "POSTGRES_LOCK_TIMEOUT": "10",
    }
    return env
