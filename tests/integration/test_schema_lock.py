"""Processes that start at once on a fresh store (replicas, ingest workers,
the relay) all come up: table creation and migration are serialized by
``infra.schema_lock``. Without it PostgreSQL fails one of them with "tuple
concurrently updated", and SQLite with "database is locked" when one reads a
table's schema while another writes."""

from __future__ import annotations

import os
import subprocess
import sys

from infra.settings import Settings

BOOT = (  # the store, read models and key table, then the API's audit tables
    "from services.bootstrap import bootstrap\n"
    "from services.audit.log import AuditLog\n"
    "from infra.settings import Settings\n"
    "boende = bootstrap(Settings())\n"
    "AuditLog(boende.settings, boende.app).close()\n"
    "boende.close()\n"
)
STARTING_AT_ONCE = 6


def test_processes_starting_at_once_on_a_fresh_store_all_come_up(
    store_settings: Settings,
) -> None:
    env = {
        **os.environ,
        "BOENDE_DATA_DIR": str(store_settings.data_dir),
        "BOENDE_LOG_LEVEL": "WARNING",
    }
    env.pop("BOENDE_DATABASE_URL", None)
    if store_settings.database_url:
        env["BOENDE_DATABASE_URL"] = store_settings.database_url
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BOOT], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(STARTING_AT_ONCE)
    ]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(stderr.strip().splitlines()[-1])
    assert failures == []
