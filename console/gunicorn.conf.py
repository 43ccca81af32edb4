"""gunicorn's settings, the same for `manage.py demo` and a production server:

    gunicorn -c console/gunicorn.conf.py console.wsgi --bind 0.0.0.0:8000

Options on the command line (or in ``GUNICORN_CMD_ARGS``) override these; ``WEB_CONCURRENCY``
sets the number of worker processes.

Slow clients. A gthread worker hands each connection to one of its threads as soon as the first
bytes arrive, and the thread then waits for the rest of the request as long as it takes: a few
clients that send half a request and stall hold every thread, and nobody else is answered. Here
the worker's own event loop (which already waits on idle kept-alive connections) reads each
request, its head and a body of announced length, before a thread takes it; a client that has
not sent its request within ``timeout`` seconds is answered 408 and disconnected. Threads only
ever run requests that have arrived. The number of connections a worker keeps open is still
bounded (``worker_connections``): put a buffering proxy in front for the open internet (README).
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import TConn, ThreadWorker

wsgi_app = "console.wsgi"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
# How long a client may take to send its request, seconds (and, as in gunicorn, how long a worker
# may stay silent before the arbiter restarts it).
timeout = 30
# How long an idle kept-alive connection stays open, seconds.
keepalive = 5
graceful_timeout = 30
accesslog = "-"

HEAD_END = b"\r\n\r\n"
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*(?:\r\n|$)")
# Bodies up to Django's DATA_UPLOAD_MAX_MEMORY_SIZE are read by the event loop too; a larger one
# is read by the thread that serves its request.
BODY_READ_AHEAD_LIMIT = 2_621_440
READ_SIZE = 65_536
REQUEST_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)


class RequestReadingThreadWorker(ThreadWorker):
    """gthread whose event loop reads every request whole before a thread takes it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arriving: deque[TConn] = deque()  # oldest first: their deadlines are in order
        limits = (self.cfg.limit_request_line, self.cfg.limit_request_field_size)
        # No head within gunicorn's limits is longer; one that is goes to the parser, which
        # refuses it.
        self.head_limit = (
            self.cfg.limit_request_line
            + self.cfg.limit_request_fields * (self.cfg.limit_request_field_size + 2)
            + len(HEAD_END)
            if all(limits)
            else 1_048_576
        )

    def enqueue_req(self, conn: TConn) -> None:
        """Every way a connection reaches a thread passes here: a new connection, a kept-alive
        one that became readable, one with a pipelined request already read."""
        if getattr(conn, "request_arrived", False) or not self.reads_plain_http(conn):
            conn.request_arrived = False
            super().enqueue_req(conn)
        else:
            self.await_request(conn)

    def reads_plain_http(self, conn: TConn) -> bool:
        """TLS, HTTP/2 and the PROXY protocol are left to gunicorn's own reading (in a thread)."""
        return (
            not self.cfg.is_ssl
            and getattr(self.cfg, "protocol", "http") == "http"
            and self.cfg.proxy_protocol == "off"
            and not conn.is_http2
            and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)
        )

    def await_request(self, conn: TConn) -> None:
        already_read = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.arriving_bytes = bytearray(already_read)
        if self.complete(conn.arriving_bytes):
            self.hand_over(conn)
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.timeout
        self.arriving.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn: TConn, _sock: Any) -> None:
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        conn.arriving_bytes += data
        if self.complete(conn.arriving_bytes):
            self.stop_awaiting(conn)
            self.hand_over(conn)

    def complete(self, data: bytearray) -> bool:
        """Whether ``data`` holds a request's head and the body its Content-Length announces
        (or so much that the parser will refuse it)."""
        start = 2 if data.startswith(b"\r\n") else 0  # one empty line may precede a request
        end = data.find(HEAD_END, start)
        if end < 0:
            return len(data) > self.head_limit
        head = bytes(data[start:end]).lower()
        if b"\r\nexpect:" in head or b"\r\ntransfer-encoding:" in head:
            return True  # the client waits for 100 Continue, or the body is chunked
        length = CONTENT_LENGTH.search(head)
        if length is None or int(length.group(1)) > BODY_READ_AHEAD_LIMIT:
            return True
        return len(data) >= end + len(HEAD_END) + int(length.group(1))

    def hand_over(self, conn: TConn) -> None:
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(conn.arriving_bytes))
        conn.arriving_bytes = bytearray()
        conn.data_ready = True
        conn.request_arrived = True
        self.enqueue_req(conn)

    def stop_awaiting(self, conn: TConn) -> None:
        self.arriving.remove(conn)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def drop(self, conn: TConn, answer: bytes = b"") -> None:
        self.stop_awaiting(conn)
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Called by the event loop about once a second: also disconnect the clients whose
        request has not arrived in time."""
        super().murder_pending()
        now = time.monotonic()
        while self.arriving and self.arriving[0].timeout <= now:
            conn = self.arriving[0]
            self.drop(conn, REQUEST_TIMEOUT_ANSWER if conn.arriving_bytes else b"")


worker_class = RequestReadingThreadWorker
