"""The library's version, sent in snapshots and in the User-Agent of the platform's clients."""

__version__ = "0.1.0"
