"""Keeping the corpus current: the configured sources, run once by ``paperfeed sync``."""
