"""``make stack``: the whole system on one machine, for development.

Starts a local Kafka-protocol broker (noida-db, data under ``var/kafka``),
creates the topics, then runs the API (with the projections in-process), the
ingest worker and the relay as child processes, and prints where each is.
Ctrl-C (or SIGTERM) stops them all, broker last.

Messages on ``boende.submissions`` carry the sender's bearer token in the
header ``authorization`` (``services.kafka.senders``): with token checks on,
the stack prints a development ``case_system`` token per committee to send
with, and ``boende simulate --via kafka`` mints and sends its own.

The ingest worker is a static member of its consumer group (KIP-345,
``--instance-id``): noida-db never evicts a member that died without leaving
(SIGKILL, a crash), so a dynamic worker started again can stall while the
group waits for the dead one; a static one with the same id takes the
partitions straight back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from infra.auth import AuthConfigError, mint_dev_token
from infra.broker import LocalBroker
from infra.kafka import create_topics
from infra.settings import Settings

WORKERS = ("serve", "ingest", "relay")
#: Stable across restarts of the stack: that is what makes it static.
INGEST_INSTANCE_ID = "stack-ingest-0"


def worker_command(worker: str) -> list[str]:
    """The ``boende`` subcommand that runs ``worker``, in this interpreter."""
    command = [sys.executable, "-m", "services.cli.main", worker]
    if worker == "ingest":
        command += ["--instance-id", INGEST_INSTANCE_ID]
    return command


def worker_env(settings: Settings, worker: str) -> dict[str, str]:
    """Each worker's own metrics port: ``BOENDE_METRICS_PORT`` for ``serve``,
    the next ones for the others (one port serves one process)."""
    if settings.metrics_port is None:
        return {}
    return {"BOENDE_METRICS_PORT": str(settings.metrics_port + WORKERS.index(worker))}


def main() -> int:
    settings = Settings()
    port = int(settings.kafka_bootstrap.rsplit(":", 1)[1])
    broker = LocalBroker("noida", port, settings.data_dir / "kafka").start()
    env = {**os.environ, "BOENDE_KAFKA_BOOTSTRAP": broker.bootstrap}
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        create_topics(settings.model_copy(update={"kafka_bootstrap": broker.bootstrap}))
        for worker in WORKERS:
            log = (settings.data_dir / f"{worker}.log").open("ab")
            children.append(
                subprocess.Popen(
                    worker_command(worker),
                    env=env | worker_env(settings, worker),
                    stdout=log,
                    stderr=log,
                )
            )
        _print_where(settings, broker)
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
        failed = [w for w, c in zip(WORKERS, children, strict=True) if c.poll()]
        if failed:
            print(
                f"stopped: {', '.join(failed)} exited; see var/*.log", file=sys.stderr
            )
            return 1
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
        broker.stop()


def _print_where(settings: Settings, broker: LocalBroker) -> None:
    data = Path(settings.data_dir).resolve()
    print(f"kafka broker (noida-db)  {broker.bootstrap}   data: {data / 'kafka'}")
    print(f"API + projections        http://{settings.host}:{settings.port}/docs")
    print("ingest worker            boende.submissions -> the case log")
    print("relay                    the case log -> boende.events")
    print(f"logs                     {data}/{{serve,ingest,relay}}.log")
    if settings.metrics_port is not None:
        ports = ", ".join(
            f"{w} {worker_env(settings, w)['BOENDE_METRICS_PORT']}" for w in WORKERS
        )
        print(f"metrics (/metrics)       {settings.metrics_host}: {ports}")
    for committee, token in case_system_tokens(settings).items():
        print(f"{committee} case system token  {token}")
    print("send to Kafka             boende simulate --via kafka  (header")
    print("                          authorization: Bearer <token> on each message)")
    print("Ctrl-C stops them all.")
    sys.stdout.flush()


def case_system_tokens(settings: Settings) -> dict[str, str]:
    """A 12-hour development ``case_system`` token for IFN's and ALN's case
    systems (``stack-ifn``, ``stack-aln``); none with BOENDE_AUTH=off."""
    if settings.auth == "off":
        return {}
    try:
        return {
            committee: mint_dev_token(
                settings,
                f"stack-{committee.lower()}",
                ["case_system"],
                timedelta(hours=12),
                committee=committee,
            )
            for committee in ("IFN", "ALN")
        }
    except AuthConfigError:  # production: tokens come from the provider
        return {}


if __name__ == "__main__":
    sys.exit(main())
