"""Reading hostile request bodies, for every app that takes raw bytes (snapshot ingestion, the
collector): gzip decoding that stops at the limit and takes exactly one whole member, and the NUL
check for text that PostgreSQL cannot store."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

NUL = "\x00"
NUL_MESSAGE = "Contains a NUL character (\\u0000), which cannot be stored."


class BodyRejected(Exception):
    """The body cannot be read: `status` is the HTTP answer (400, or 413 past the limit)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


CHUNK = 1024 * 1024  # the piece of a body read or decompressed at a time


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def decode_body(
    raw: bytes | bytearray, content_encoding: str | None, limit: int
) -> bytes | bytearray:
    """The request body, gunzipped when sent with Content-Encoding: gzip: one complete gzip member,
    nothing after it, at most `limit` bytes once decompressed. Raises `BodyRejected`."""
    if _encoding(content_encoding) == "gzip":
        view = memoryview(raw)
        return _gunzip((view[i : i + CHUNK] for i in range(0, len(view), CHUNK)), limit)
    return raw


def read_body(stream: Readable, content_encoding: str | None, limit: int) -> bytes | bytearray:
    """`decode_body` of a body still to be read from `stream` (a Django request): a gzip body is
    decompressed as it is read, so that only the decompressed body is ever held whole, once."""
    if _encoding(content_encoding) == "gzip":
        return _gunzip(iter(lambda: stream.read(CHUNK), b""), limit)
    # One bytes object of the whole body (the server spooled it to a file as it arrived).
    body = stream.read()
    if len(body) > limit:  # a server-side limit (ApiGuardMiddleware) refuses this first
        raise BodyRejected(f"The body is over the limit of {limit:,} bytes.", status=413)
    return body


def _encoding(content_encoding: str | None) -> str:
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity", "gzip"):
        return encoding
    raise BodyRejected(f"Content-Encoding {encoding!r} is not supported; send gzip or nothing.")


def _gunzip(pieces: Iterable[bytes | memoryview], limit: int) -> bytearray:
    """The decompression of one gzip member arriving in `pieces`, into one growing buffer: zlib's
    one-call decompression joins its output blocks at the end (twice the body at its peak)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    body = bytearray()
    after_end = 0  # bytes in the pieces after the one in which the member ended
    try:
        for piece in pieces:
            if decompressor.eof:
                after_end += len(piece)
                continue
            data: bytes | memoryview = piece
            while data:
                body += decompressor.decompress(data, CHUNK)
                _check_size(body, limit)
                data = decompressor.unconsumed_tail
        while not decompressor.eof:  # output still held by zlib after the last piece
            more = decompressor.decompress(b"", CHUNK)
            if not more:
                break
            body += more
            _check_size(body, limit)
    except zlib.error:
        raise BodyRejected("The body is not valid gzip.") from None
    if not decompressor.eof:
        raise BodyRejected("The gzip body is truncated: its stream ends before its last block.")
    extra = len(decompressor.unused_data) + after_end
    if extra:
        # A second member or trailing bytes: `gzip -c a b` concatenates members, and a reader
        # stopping at the first would silently drop the rest.
        raise BodyRejected(
            f"The body has {extra:,} bytes after the end of its gzip stream; send one gzip "
            "member and nothing after it."
        )
    return body


def _check_size(body: bytearray, limit: int) -> None:
    if len(body) > limit:
        raise BodyRejected(
            f"The decompressed body is over the limit of {limit:,} bytes.", status=413
        )


def escape_nul(text: str) -> str:
    """`text` with its NUL characters written as \\u0000, to name a field in an error."""
    return text.replace(NUL, "\\u0000")


def nul_paths(value: Any) -> Iterator[tuple[str | int, ...]]:
    """The path of every string in a JSON value (object keys included) that holds a NUL, in
    document order; keys in a path have their NULs escaped (`escape_nul`). Iterative, so any
    depth the parser allowed is walked."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                yield path
        elif isinstance(item, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, child in item.items():
                step = escape_nul(key) if isinstance(key, str) else key
                if isinstance(key, str) and NUL in key:
                    children.append(((*path, step), NUL))  # the key itself, before its value
                children.append(((*path, step), child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([((*path, i), child) for i, child in enumerate(item)]))


def may_hold_nul(raw: bytes) -> bool:
    """False when a JSON body certainly has no NUL in any string: JSON can carry one only
    escaped, as \\u0000 (a raw control character is invalid JSON), so the walk of `nul_paths` is
    needed only when this byte string occurs."""
    return b"\\u0000" in raw
