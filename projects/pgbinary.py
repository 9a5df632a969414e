"""PostgreSQL's binary formats, read and written with NumPy: the hot paths of ingestion (points
written with binary COPY) and of series reads (columns read as binary arrays) make no Python
object per row.

- Binary COPY: a signature, flags and header-extension length; then per row the number of
  columns and each column as a 4-byte length and its big-endian bytes; then -1.
- A one-dimensional array without nulls (`array_send`): a 20-byte header (dimensions, flags,
  element type, length, lower bound), then each element as a 4-byte length and its bytes.
- timestamptz: microseconds since 2000-01-01 UTC, as a big-endian int8.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import numpy as np

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
EPOCH_SQL = "'2000-01-01T00:00:00Z'::timestamptz"
EPOCH_SECONDS = EPOCH.timestamp()


def micros(when: datetime) -> int:
    """A time as PostgreSQL stores it: microseconds since 2000-01-01 UTC."""
    return (when - EPOCH) // timedelta(microseconds=1)


def copy_row_dtype(*columns: tuple[str, str]) -> np.dtype:
    """The dtype of one binary COPY row of fixed-width, non-null columns given as (name, dtype):
    the column count, then each column's length and value."""
    fields: list[tuple[str, str]] = [("columns", ">i2")]
    for name, kind in columns:
        fields += [(f"{name}_length", ">i4"), (name, kind)]
    return np.dtype(fields)


def copy_data(rows: np.ndarray) -> bytes:
    """A whole binary COPY stream of `rows` (a `copy_row_dtype` array whose values are set)."""
    assert rows.dtype.names is not None  # a structured array
    names = [
        name for name in rows.dtype.names if name != "columns" and not name.endswith("_length")
    ]
    rows["columns"] = len(names)
    for name in names:
        rows[f"{name}_length"] = rows.dtype[name].itemsize
    return b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff"


def copy_bytea_row(key: int, data: bytes | bytearray) -> list[bytes | bytearray]:
    """A binary COPY stream of one row (an int8 and a bytea) in pieces, `data` itself among them
    (a big body is not copied to lay the stream out)."""
    head = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    row = struct.pack(">hiqi", 2, 8, key, len(data))
    return [head + row, data, b"\xff\xff"]


_ARRAY_HEADER = 20


def _array(data: bytes | None, kind: str) -> np.ndarray:
    element = np.dtype([("length", ">i4"), ("value", kind)])
    if data is None:  # array_agg over no rows is NULL
        return np.empty(0, dtype=element["value"])
    return np.frombuffer(data, dtype=element, offset=_ARRAY_HEADER)["value"]


def int8_array(data: bytes | None) -> np.ndarray:
    """An int8[] or timestamptz[] from `array_send`, as native int64."""
    return _array(data, ">i8").astype(np.int64)


def float8_array(data: bytes | None) -> np.ndarray:
    """A float8[] from `array_send`, as native float64."""
    return _array(data, ">f8").astype(np.float64)


def uuid_array(data: bytes | None) -> list[bytes]:
    """A uuid[] from `array_send`, as 16-byte values."""
    return _array(data, "V16").tolist()
