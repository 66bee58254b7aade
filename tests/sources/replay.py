"""A real HTTP server on a loopback port that answers from recorded responses.

Routes match a path and the query parameters given (others are ignored); a route holds a list
of responses served in turn, the last one repeating, so "503 first, then the page" is one route.
Every request is recorded, and a hook can act on the n-th one (the kill-and-resume test).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass(slots=True)
class Reply:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/xml; charset=utf-8"


@dataclass(slots=True)
class Route:
    path: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0


class Replay:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[str] = []
        self.on_request: Callable[[int, str], None] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def add(self, path: str, params: dict[str, str] | None, *replies: Reply) -> None:
        self.routes.insert(0, Route(path, params or {}, list(replies)))  # newest wins

    def reply_for(self, target: str) -> Reply:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(target)
            number = len(self.requests)
        if self.on_request:
            self.on_request(number, target)
        for route in self.routes:
            if route.path == parts.path and all(query.get(k) == v for k, v in route.params.items()):
                reply = route.replies[min(route.served, len(route.replies) - 1)]
                route.served += 1
                return reply
        return Reply(b"no such recorded response", 404, content_type="text/plain")

    @contextmanager
    def running(self) -> Iterator[Replay]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = replay.reply_for(self.path)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # The client may have been killed mid-request (the kill-and-resume test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)
