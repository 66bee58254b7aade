"""E-mail digests: what goes in one (compose), and getting each out exactly once (send)."""
