"""The HTTP server's guard against slow clients (uvicorn's protocols).

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

The parser is httptools (C, uvicorn[standard]) when installed — h11, pure
Python, took ~28 % of the event loop's time per request — else h11: the
same limits on both (:class:`BoundedHttpToolsProtocol`,
:class:`BoundedH11Protocol`).

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
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: h11 only
    HttpToolsProtocol = None  # type: ignore[assignment, misc]


def bounded_protocol(read_timeout: float, max_connections: int) -> type[Any]:
    """uvicorn's protocol (httptools, else h11), with the read timeout and
    the connection cap."""
    base = BoundedH11Protocol if HttpToolsProtocol is None else _httptools_class()
    return type(
        base.__name__,
        (base,),
        {"read_timeout": read_timeout, "max_connections": max_connections},
    )


def protocol_path() -> str:
    """For ``uvicorn.run(..., workers=N)``, which names its protocol by
    import path: each worker process sets the limits with :func:`configure`."""
    name = "BoundedH11Protocol" if HttpToolsProtocol is None else "BoundedHttpTools"
    return f"{__name__}:{name}"


def configure(read_timeout: float, max_connections: int) -> None:
    """This process's limits for both protocols (a worker's)."""
    protocols: list[type[Any]] = [BoundedH11Protocol, *_httptools_classes()]
    for protocol in protocols:
        protocol.read_timeout = read_timeout
        protocol.max_connections = max_connections


def no_delay(transport: asyncio.BaseTransport) -> None:
    """``TCP_NODELAY`` on the transport's socket, when it has one."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is gone already
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Bounds:
    """The read deadline and the refusals, whatever parses the requests."""

    read_timeout: float = 10.0
    max_connections: int = 1000
    _read_deadline: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    connections: set[Any]

    def _admit(self, transport: asyncio.Transport) -> None:
        no_delay(transport)
        self._read_deadline = None
        if len(self.connections) > self.max_connections:
            self._refuse(503, "unavailable", "too many connections; retry later")
            return
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        deadline = getattr(self, "_read_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._read_deadline = None

    def _head_is_in(self) -> bool:
        raise NotImplementedError

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if not self._head_is_in():
            message = f"the request did not arrive within {self.read_timeout:g} s"
            self._refuse(408, "request_timeout", message)
        else:  # the app is reading the body: it sees the client go
            self.transport.close()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """A JSON refusal (the error table's shape), then close. Written as
        bytes: the parser will not answer a request it has not read."""
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


class BoundedH11Protocol(_Bounds, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit(transport)

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection begins
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # read whole (or the connection is done)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_is_in(self) -> bool:
        return self.conn.their_state is not h11.IDLE


def _httptools_class() -> type[Any]:
    return BoundedHttpTools


def _httptools_classes() -> tuple[type[Any], ...]:
    return () if HttpToolsProtocol is None else (BoundedHttpTools,)


if HttpToolsProtocol is not None:

    class BoundedHttpTools(_Bounds, HttpToolsProtocol):
        """httptools calls back at each message's begin, head and end: the
        deadline runs from the first byte of a message to its end."""

        _in_message = False
        _head_in = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit(transport)

        def data_received(self, data: bytes) -> None:
            if self._read_deadline is None and not self._in_message:
                self._arm()  # the next request on a kept-alive connection
            super().data_received(data)
            if not self._in_message:
                self._disarm()  # read whole, no next one begun
            elif self._read_deadline is None:
                self._arm()  # a next one begun in the same bytes

        def on_message_begin(self) -> None:
            self._in_message, self._head_in = True, False
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head_in = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_message = False
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _head_is_in(self) -> bool:
            return self._in_message and self._head_in


_REASONS = {408: "Request Timeout", 503: "Service Unavailable"}
