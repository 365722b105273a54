"""The real Boende server (``boende serve``) as a subprocess on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def boende_command(*args: str) -> list[str]:
    """``boende ARGS`` from this interpreter's environment."""
    script = Path(sys.executable).parent / "boende"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "services.cli.main", *args]


class Child:
    """A ``boende`` command as a subprocess with its own log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            boende_command(*args),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> int:
        """SIGTERM (servers and workers finish what they are doing and exit),
        then wait; kill only if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 20) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class Server(Child):
    """``boende serve`` started with its own data dir, port and log file."""

    def __init__(
        self,
        data_dir: Path,
        database_url: str | None,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "BOENDE_HOST": "127.0.0.1",
            "BOENDE_PORT": str(self.port),
            "BOENDE_DATA_DIR": str(data_dir),
            # Off unless ``extra_env`` says BOENDE_AUTH=jwt (bench.http_runs
            # measures both; auth=off is refused in production).
            "BOENDE_AUTH": "off",
            "BOENDE_WEB_WORKERS": str(workers),
        }
        env.pop("BOENDE_DATABASE_URL", None)
        if database_url:
            env["BOENDE_DATABASE_URL"] = database_url
        env |= extra_env or {}
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(["serve"], env, data_dir / "server.log")

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> None:
        """Poll ``/readyz`` until it answers 200, or fail with the log's tail."""
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log_tail()}")
                try:
                    if client.get("/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"server not ready in {READY_TIMEOUT}s:\n{self.log_tail()}")

    def position(self) -> int:
        """The store's newest global position, as ``/readyz`` reports it."""
        response = httpx.get(f"{self.url}/readyz", timeout=10.0)
        response.raise_for_status()
        return int(response.json()["position"])

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
