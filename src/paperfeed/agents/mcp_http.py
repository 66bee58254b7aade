"""The MCP server over streamable HTTP, for ``paperfeed serve`` to answer at ``/mcp``.

Stateless, with JSON answers: each POST carries one message and is answered on its own, so any
node behind a proxy can take any request (no session to pin a client to a node), and the rate
limits count POSTs like the API's requests. The caller's token is the request's
``Authorization: Bearer`` header, as for the write API.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from paperfeed.agents.backend import Backend
from paperfeed.agents.mcp_server import build_server

PATH = "/mcp"


def bearer_token(ctx: Context) -> str | None:
    """The token of the HTTP request's ``Authorization: Bearer …`` header, if any."""
    headers = getattr(ctx.request_context.request, "headers", None)
    if headers is None:
        return None
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


class McpEndpoint:
    """The ASGI app to route ``/mcp`` to, and the context its session manager must run in
    (the web app's lifespan)."""

    #: Stateless, the server has nothing to push: a GET's event stream (which the SDK would
    #: hold open, empty, for as long as the client stays) is answered 405, as the protocol
    #: allows, and there is no session for a DELETE to end.
    METHODS = ("POST",)

    def __init__(self, backend: Backend) -> None:
        self.server: MCPServer = build_server(backend, bearer_token)
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            # The SDK's Host check, on by default for a loopback address, would refuse the
            # public name a proxy forwards; the same data is readable through the JSON API
            # without it, and a write needs the member's token, which no other origin has.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.app: ASGIApp = StreamableHTTPASGIApp(self.server.session_manager)

    def running(self) -> AbstractAsyncContextManager[None]:
        return self.server.session_manager.run()
