"""The site: server-rendered pages, the JSON API and RSS/Atom feeds (FastAPI + Jinja2)."""
