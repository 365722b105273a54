"""Processes that start at once on a fresh PostgreSQL database (replicas,
ingest workers, the relay) all come up: table creation is serialized by
``infra.schema_lock``, where PostgreSQL alone would fail one of them with
"tuple concurrently updated"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BOOT = (  # the store, read models and key table, then the API's audit tables
    "from services.bootstrap import bootstrap\n"
    "from services.audit_log import AuditLog\n"
    "from infra.settings import Settings\n"
    "boende = bootstrap(Settings())\n"
    "AuditLog(boende.settings, boende.app).close()\n"
    "boende.close()\n"
)
STARTING_AT_ONCE = 6


def test_processes_starting_at_once_on_a_fresh_database_all_come_up(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "BOENDE_DATABASE_URL": postgres_url,
        "BOENDE_LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BOOT],
            env={**env, "BOENDE_DATA_DIR": str(tmp_path)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTING_AT_ONCE)
    ]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(stderr.strip().splitlines()[-1])
    assert failures == []
