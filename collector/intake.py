"""Reading what a live service sends: JSON records, CSV or Parquet bodies, checked against the
reference's columns (a clear error naming the row and the column), and stored as one Parquet batch
before the request is answered. Also the reference upload, and labels."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import IntegrityError, transaction

from collector.models import Collector, LabelBatch, ReferenceDataset, RowBatch
from metrics.core.definition import infer_column_type
from mlplatform import request_bodies
from mlplatform.request_bodies import NUL, NUL_MESSAGE, escape_nul

ID_COLUMN = "prediction_id"
TIME_COLUMN = "timestamp"
RESERVED = (ID_COLUMN, TIME_COLUMN)
MAX_ROWS_PER_REQUEST = 100_000
MAX_LABELS_PER_REQUEST = 100_000
# The times a row may carry, in UTC: what Python's datetime (and so every reader) can hold.
EARLIEST = pd.Timestamp("0001-01-01T00:00:00", tz=UTC)
LATEST = pd.Timestamp("9999-12-31T23:59:59.999999", tz=UTC)


class Rejected(Exception):
    """A request refused whole, nothing stored: `fields` names what is wrong (row and column)."""

    def __init__(
        self, message: str, fields: dict[str, str] | None = None, *, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status  # 400, or 413 for a body past the limit once decompressed


def max_body_bytes() -> int:
    return int(settings.COLLECTOR_MAX_BODY_BYTES)


# ---- reading bodies -----------------------------------------------------------------------------


def decode(raw: bytes, content_encoding: str | None) -> bytes:
    """The body, gunzipped when sent with Content-Encoding: gzip, within the collector's limit."""
    try:
        body = request_bodies.decode_body(raw, content_encoding, max_body_bytes())
    except request_bodies.BodyRejected as exc:
        raise Rejected(exc.message, {"body": exc.message}, status=exc.status) from None
    return body if isinstance(body, bytes) else bytes(body)


def _frame(raw: bytes, content_type: str) -> pd.DataFrame:
    """A DataFrame from a JSON (records), CSV or Parquet body, with no NUL in a column's name or
    a string."""
    if not raw.strip():
        raise Rejected("The body is empty: send rows as JSON, CSV or Parquet.", {"body": "Empty."})
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/json", ""):
        frame = _json_frame(raw)
        # JSON carries a NUL only escaped: most bodies are cleared by one byte search.
        if request_bodies.may_hold_nul(raw):
            _refuse_nul(frame)
        return frame
    if kind in ("text/csv", "application/csv"):
        try:
            frame = pd.read_csv(io.BytesIO(raw), low_memory=False)
        except (ValueError, OverflowError, UnicodeDecodeError) as exc:
            # ParserError, EmptyDataError and UnicodeDecodeError are ValueErrors.
            raise Rejected(
                f"The CSV could not be read: {exc}", {"body": f"Not a readable UTF-8 CSV: {exc}"}
            ) from None
        if NUL.encode() in raw:
            _refuse_nul(frame)
        return frame
    if kind in ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet"):
        try:
            frame = pq.read_table(io.BytesIO(raw)).to_pandas()
        except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
            raise Rejected(
                f"The Parquet file could not be read: {exc}", {"body": f"Not Parquet: {exc}"}
            ) from None
        _refuse_nul(frame)  # a NUL byte says nothing in a binary file: every string is looked at
        # A file written from pandas brings its index back: a named one is columns (such as
        # prediction_id); an unnamed one is dropped, so the rows are numbered 0..n-1 as the
        # checks that follow expect.
        named = any(name is not None for name in frame.index.names)
        return frame.reset_index(drop=not named)
    raise Rejected(
        f"Unsupported content type {kind!r}: send application/json (a list of objects), "
        "text/csv or application/vnd.apache.parquet.",
        {"Content-Type": kind},
    )


def _refuse_nul(frame: pd.DataFrame) -> None:
    """Refuse a NUL in a column's name or a string value, naming the first row and column:
    PostgreSQL's text and jsonb cannot hold one, and these reach them (labels join on
    prediction ids, snapshots carry column names and values)."""
    for column in frame.columns:
        series = frame[column]
        name = escape_nul(str(column))
        if NUL in str(column):
            row = int(series.notna().to_numpy().argmax()) if len(series) else 0
            raise Rejected(
                f"Row {row}: the column name {name!r} contains a NUL character.",
                {f"rows[{row}].{name}": NUL_MESSAGE},
            )
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            found = _holds_nul(series)
            if found.any():
                row = int(found.argmax())
                raise Rejected(
                    f"Row {row}, column {name!r}: the value contains a NUL character.",
                    {f"rows[{row}].{name}": NUL_MESSAGE},
                )


def _holds_nul(series: pd.Series) -> Any:
    """A boolean array: which values of an object or string column are strings with a NUL."""
    try:
        return series.str.contains(NUL, regex=False, na=False).to_numpy(dtype=bool)
    except (AttributeError, TypeError):  # no strings at all, or bytes: the .str accessor refuses
        return series.map(lambda v: isinstance(v, str) and NUL in v).to_numpy(dtype=bool)


def _json_frame(raw: bytes) -> pd.DataFrame:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Rejected(f"The body is not valid JSON: {exc}", {"body": str(exc)}) from None
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise Rejected("Expected a list of rows (objects).", {"body": "Not a list."})
    if not data:
        raise Rejected("The list of rows is empty.", {"body": "Empty list."})
    if len(data) > MAX_ROWS_PER_REQUEST:
        raise Rejected(
            f"At most {MAX_ROWS_PER_REQUEST:,} rows per request; send them in batches.",
            {"body": f"{len(data)} rows."},
        )
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise Rejected(f"Row {i} is not an object.", {f"rows[{i}]": "Expected an object."})
        for key, value in row.items():
            if isinstance(value, (dict, list)):
                raise Rejected(
                    f"Row {i}, column {key!r}: nested values are not accepted.",
                    {f"rows[{i}].{key}": "Expected a number, a string, a boolean or null."},
                )
    return pd.DataFrame.from_records(data)


# ---- checking against the reference -------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _storage(frame: pd.DataFrame) -> dict[str, str]:
    """How each reference column is stored: "numerical" (numbers, whatever the column's role:
    a categorical 0/1 column compares as numbers on both sides), "datetime" or "text"."""
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    kinds = {}
    for field in schema:
        if (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_boolean(field.type)
        ):
            kinds[field.name] = "numerical"
        elif pa.types.is_timestamp(field.type) or pa.types.is_date(field.type):
            kinds[field.name] = "datetime"
        else:
            kinds[field.name] = "text"
    return kinds


def _check(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The frame's columns, each stored as the reference's: unknown columns and values of the wrong
    type are refused, naming the first bad row and column. Missing columns are missing values."""
    if len(frame) > MAX_ROWS_PER_REQUEST:
        raise Rejected(
            f"At most {MAX_ROWS_PER_REQUEST:,} rows per request; send them in batches.",
            {"body": f"{len(frame)} rows."},
        )
    unknown = [c for c in frame.columns if c not in columns and c not in RESERVED]
    if unknown:
        column = str(unknown[0])
        row = int(frame[unknown[0]].notna().to_numpy().argmax())
        raise Rejected(
            f"Row {row}: unknown column {column!r}; the reference has {', '.join(columns)}.",
            {f"rows[{row}].{column}": "Not a column of the reference."},
        )
    out: dict[str, Any] = {}
    for column, kind in columns.items():
        if column not in frame.columns:
            out[column] = pd.Series(
                [None] * len(frame), dtype="float64" if kind == "numerical" else "object"
            )
            continue
        series = frame[column]
        if kind == "numerical":
            if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                values = series.to_numpy(dtype=object)
                bad = next(
                    (
                        i
                        for i, v in enumerate(values)
                        if v is not None
                        and not _is_number(v)
                        and not (isinstance(v, float) and math.isnan(v))
                    ),
                    None,
                )
                if bad is not None:
                    raise Rejected(
                        f"Row {bad}, column {column!r}: expected a number, got {values[bad]!r}.",
                        {f"rows[{bad}].{column}": "Expected a number."},
                    )
                series = pd.to_numeric(series, errors="coerce")
            out[column] = series.astype("float64")
        elif kind == "datetime":
            out[column] = _times(series, column, "Expected ISO 8601 dates or times.")
        else:
            values = series.to_numpy(dtype=object)
            bad = next(
                (i for i, v in enumerate(values) if isinstance(v, (dict, list))),
                None,
            )
            if bad is not None:
                raise Rejected(
                    f"Row {bad}, column {column!r}: expected a value, got a structure.",
                    {f"rows[{bad}].{column}": "Expected a string, a number or a boolean."},
                )
            out[column] = series.map(
                lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            ).astype("object")
    checked = pd.DataFrame(out, index=range(len(frame)))
    checked[ID_COLUMN] = (
        frame[ID_COLUMN].map(
            lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        )
        if ID_COLUMN in frame.columns
        else None
    )
    now = pd.Timestamp(datetime.now(UTC))
    if TIME_COLUMN in frame.columns:
        times = _times(
            frame[TIME_COLUMN], TIME_COLUMN, "Expected ISO 8601 times, e.g. 2026-11-29T10:00:00Z."
        )
        checked[TIME_COLUMN] = times.fillna(now)
    else:
        checked[TIME_COLUMN] = now
    return checked


def _times(series: pd.Series, column: str, expected: str) -> pd.Series:
    """A column of times in UTC, each within the years 1 to 9999 once in UTC (a time at the
    calendar's end with an offset, 9999-12-31T23:59:59-05:00, is past it)."""
    try:
        times = pd.to_datetime(series, utc=True, errors="raise", format="mixed")
    except (ValueError, TypeError, OverflowError) as exc:
        # Includes the out-of-range ones pandas finds itself (0001-01-01T00:00:00+05:00).
        raise Rejected(f"Column {column!r}: {expected} ({exc})", {column: expected}) from None
    outside = (times.notna() & ((times < EARLIEST) | (times > LATEST))).to_numpy(dtype=bool)
    if outside.any():
        row = int(outside.argmax())
        value = series.iloc[row]
        # Not str() of a Timestamp: pandas cannot write one outside Python's datetime range.
        shown = repr(value[:40]) if isinstance(value, str) else "the time"
        raise Rejected(
            f"Row {row}, column {column!r}: {shown} is outside the years 1 to 9999 in UTC.",
            {column: f"Row {row}: outside the years 1 to 9999 in UTC."},
        )
    return times


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd")
    return sink.getvalue()


def read_parquet(data: bytes | memoryview) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(bytes(data))).to_pandas()


def current_reference(collector: Collector) -> ReferenceDataset | None:
    """The collector's current reference, without its file (`reference_frame` reads that)."""
    return collector.references.filter(current=True).defer("parquet").first()


def reference_frame(reference: ReferenceDataset) -> pd.DataFrame:
    data = ReferenceDataset.objects.values_list("parquet", flat=True).get(pk=reference.pk)
    return read_parquet(data)


def accept_rows(
    collector: Collector,
    raw: bytes,
    content_type: str,
    *,
    key: str = "",
    content_encoding: str | None = None,
) -> tuple[RowBatch, bool]:
    """Check the rows of a request (gzipped with `content_encoding`) and store them as one batch
    (committed on return); returns it and whether it is new. A `key` (the request's
    Idempotency-Key) already stored answers with that batch. Raises `Rejected`, storing
    nothing."""
    if len(key) > 100 or not key.isprintable():
        raise Rejected(
            "The Idempotency-Key is at most 100 printable characters.",
            {"Idempotency-Key": "Invalid."},
        )
    if key:
        existing = RowBatch.objects.filter(collector=collector, key=key).first()
        if existing is not None:
            return existing, False
    reference = current_reference(collector)
    if reference is None:
        raise Rejected(
            "This collector has no reference dataset yet: upload one first (PUT .../reference).",
            {"reference": "Missing."},
        )
    frame = _check(_frame(decode(raw, content_encoding), content_type), reference.storage)
    if len(frame) == 0:  # a CSV of only a header, or a Parquet file of no rows
        raise Rejected("The body has no rows: send at least one.", {"body": "No rows."})
    times = frame[TIME_COLUMN]
    try:
        with transaction.atomic():
            batch = RowBatch.objects.create(
                collector=collector,
                rows=len(frame),
                parquet=_parquet(frame),
                first_timestamp=times.min().to_pydatetime(),
                last_timestamp=times.max().to_pydatetime(),
                key=key,
            )
    except IntegrityError:  # the same key stored meanwhile by a concurrent retry
        return RowBatch.objects.get(collector=collector, key=key), False
    return batch, True


def accept_reference(
    collector: Collector,
    raw: bytes,
    content_type: str,
    filename: str = "",
    *,
    content_encoding: str | None = None,
) -> ReferenceDataset:
    """Store a new reference (CSV or Parquet, gzipped with `content_encoding`), summarised once,
    replacing the current one."""
    frame = _frame(decode(raw, content_encoding), content_type)
    if len(frame) == 0:
        raise Rejected("The reference has no rows.", {"body": "No rows."})
    # The column types people read: inferred, then as the collector's definition says.
    definition = collector.config.get("definition") or {}
    overrides = {
        column: kind
        for kind in ("numerical", "categorical", "text", "datetime")
        for column in definition.get(f"{kind}_columns") or []
    }
    columns = {
        str(c): overrides.get(str(c), str(infer_column_type(frame[c])))
        for c in frame.columns
        if str(c) not in RESERVED
    }
    if not columns:
        raise Rejected("The reference has no columns besides prediction_id and timestamp.")
    kept = frame[[c for c in frame.columns if str(c) in columns]]
    data = _parquet(kept)
    with transaction.atomic():
        ReferenceDataset.objects.filter(collector=collector, current=True).update(current=False)
        return ReferenceDataset.objects.create(
            collector=collector,
            filename=filename[:200],
            parquet=data,
            rows=len(frame),
            columns=columns,
            storage=_storage(kept),
            size_bytes=len(data),
        )


def accept_labels(
    collector: Collector, raw: bytes, *, content_encoding: str | None = None
) -> LabelBatch:
    """Targets for prediction ids: `[{"prediction_id": ..., "target": ...}, ...]`, as JSON (gzipped
    with `content_encoding`)."""
    raw = decode(raw, content_encoding)
    try:
        data = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise Rejected(f"The body is not valid JSON: {exc}", {"body": str(exc)}) from None
    if isinstance(data, dict) and isinstance(data.get("labels"), list):
        data = data["labels"]
    if not isinstance(data, list) or not data:
        raise Rejected(
            'Expected a non-empty list of {"prediction_id": ..., "target": ...}.',
            {"body": "Empty."},
        )
    if len(data) > MAX_LABELS_PER_REQUEST:
        raise Rejected(
            f"At most {MAX_LABELS_PER_REQUEST:,} labels per request.", {"body": "Too many."}
        )
    labels: dict[str, Any] = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or ID_COLUMN not in item or "target" not in item:
            raise Rejected(
                f"Label {i}: expected an object with prediction_id and target.",
                {f"labels[{i}]": "Expected {prediction_id, target}."},
            )
        target = item["target"]
        if isinstance(target, (dict, list)) or target is None:
            raise Rejected(
                f"Label {i}: the target must be a number, a string or a boolean.",
                {f"labels[{i}].target": "Expected a number, a string or a boolean."},
            )
        raw_id = item[ID_COLUMN]
        if isinstance(raw_id, (dict, list, bool)) or raw_id is None or raw_id == "":
            raise Rejected(
                f"Label {i}: the prediction_id must be a non-empty string or a number.",
                {f"labels[{i}].prediction_id": "Expected a non-empty string or a number."},
            )
        prediction_id = str(raw_id)
        for name, text in ((ID_COLUMN, prediction_id), ("target", target)):
            if isinstance(text, str) and NUL in text:  # stored in jsonb, which cannot hold one
                raise Rejected(
                    f"Label {i}: the {name} contains a NUL character.",
                    {f"labels[{i}].{name}": NUL_MESSAGE},
                )
        labels[prediction_id] = target
    with transaction.atomic():
        return LabelBatch.objects.create(collector=collector, labels=labels, count=len(labels))
