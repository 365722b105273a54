"""The HTTP server's guard against slow clients (uvicorn's h11 protocol).

uvicorn times out idle keep-alive connections, but not a request that is
being sent: a client that sends half a header and then nothing held its
connection for ever (600 were held open). Here every request must arrive
whole, head and body, within ``read_timeout`` of its first byte (of the
connection, for the first request); else it gets 408 ``request_timeout``
when nothing was answered yet, and the connection is closed. And a
connection beyond ``max_connections`` is answered 503 ``unavailable`` and
closed at once, so a flood of them cannot take the memory or the file
descriptors the honest ones need (per server process: ``boende serve
--workers N`` holds up to N times as many).

Every connection gets ``TCP_NODELAY``, whatever the event loop: asyncio
sets it only on sockets whose protocol number says TCP, and the listening
socket uvicorn shares between worker processes does not, so small answers
waited for Nagle's algorithm (a 44 ms p50 at one client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def bounded_protocol(read_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol, with the read timeout and the connection cap."""
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"read_timeout": read_timeout, "max_connections": max_connections},
    )


#: For ``uvicorn.run(..., workers=N)``, which names its protocol by import
#: path: each worker process sets the limits with :func:`configure`.
PROTOCOL_PATH = "infra.http_server:BoundedH11Protocol"


def configure(read_timeout: float, max_connections: int) -> None:
    """This process's limits for :class:`BoundedH11Protocol` (a worker's)."""
    BoundedH11Protocol.read_timeout = read_timeout
    BoundedH11Protocol.max_connections = max_connections


def no_delay(transport: asyncio.BaseTransport) -> None:
    """``TCP_NODELAY`` on the transport's socket, when it has one."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is gone already
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BoundedH11Protocol(H11Protocol):
    read_timeout: float = 10.0
    max_connections: int = 1000

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        no_delay(transport)
        self._read_deadline: asyncio.TimerHandle | None = None
        if len(self.connections) > self.max_connections:
            self._refuse(503, "unavailable", "too many connections; retry later")
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection begins
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # read whole (or the connection is done)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        deadline = getattr(self, "_read_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:  # the head is not in yet
            message = f"the request did not arrive within {self.read_timeout:g} s"
            self._refuse(408, "request_timeout", message)
        else:  # the app is reading the body: it sees the client go
            self.transport.close()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """A JSON refusal (the error table's shape), then close. Written as
        bytes: h11 will not answer a request it has not read."""
        body = json.dumps({"error": code, "message": message}).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS[status]}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
        ]
        if status == 503:
            head.append("retry-after: 2")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.transport.close()


_REASONS = {408: "Request Timeout", 503: "Service Unavailable"}
