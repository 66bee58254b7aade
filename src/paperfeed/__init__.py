"""paperfeed: a self-hostable research-papers platform."""

__version__ = "0.1.0"
