"""Paperfeed for AI agents: an MCP server (``paperfeed mcp`` over stdio, ``/mcp`` over HTTP)
whose tools call the same services as the site and the JSON API."""
