"""Reading metric series: the points of some series over a time range, downsampled for charts.

Downsampling keeps real points: the time range is cut into buckets and each bucket keeps its
lowest and its highest point (so a spike or a dip is never smoothed away), each with the id of the
snapshot it came from, for drill-down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
from django.db import connection
from django.db.models import QuerySet

from projects import pgbinary
from projects.batches import first_of_each_batch, shared_batches
from projects.models import MetricPoint, MetricSeries, Project, Snapshot

MAX_POINTS = 5000


@dataclass
class SeriesPoints:
    series: MetricSeries
    total: int
    timestamps: np.ndarray  # seconds since the epoch
    values: np.ndarray
    snapshots: list[str | None]  # the id of each point's snapshot
    # Over every point in the range, before downsampling: count, last, sum, avg, min, max.
    stats: dict[str, float | None]

    @property
    def downsampled(self) -> bool:
        return len(self.timestamps) < self.total


def min_max_buckets(timestamps: np.ndarray, values: np.ndarray, points: int) -> np.ndarray:
    """Indices of the points to keep (time-sorted input): at most `points`, the minimum and maximum
    of each of `points // 2` equal time buckets."""
    n = len(timestamps)
    if n <= points:
        return np.arange(n)
    buckets = max(1, points // 2)
    start, end = timestamps[0], timestamps[-1]
    if end == start:
        bucket = np.zeros(n, dtype=np.int64)
    else:
        bucket = np.minimum(
            ((timestamps - start) / (end - start) * buckets).astype(np.int64), buckets - 1
        )
    # Time-sorted input means each bucket is a contiguous run: reduce each run to its extremes,
    # then take the first point of each run holding its minimum and the last holding its maximum.
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    lengths = np.diff(np.r_[starts, n])
    run = np.repeat(np.arange(len(starts)), lengths)
    lowest = np.repeat(np.minimum.reduceat(values, starts), lengths)
    highest = np.repeat(np.maximum.reduceat(values, starts), lengths)
    at_min = np.flatnonzero(values == lowest)
    at_max = np.flatnonzero(values == highest)
    first_min = at_min[np.r_[True, run[at_min][1:] != run[at_min][:-1]]]
    last_max = at_max[np.r_[run[at_max][1:] != run[at_max][:-1], True]]
    return np.union1d(first_min, last_max)


def summarise(values: np.ndarray) -> dict[str, float | None]:
    """What counters show: the last value and the aggregates over all of them."""
    if len(values) == 0:
        return {"count": 0, "last": None, "sum": None, "avg": None, "min": None, "max": None}
    total = float(values.sum())
    return {
        "count": len(values),
        "last": float(values[-1]),
        "sum": total,
        "avg": total / len(values),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _filter_sql(snapshots: QuerySet | None) -> tuple[str, tuple[object, ...]]:
    """SQL restricting points to a snapshot queryset's rows (tag and metadata filters)."""
    if snapshots is None:
        return "", ()
    sql, params = snapshots.values("pk").query.get_compiler(using="default").as_sql()
    return f" AND snapshot_id IN ({sql})", tuple(params)


def _fetch_postgresql(
    series_id: int,
    since: datetime | None,
    until: datetime | None,
    snapshots: QuerySet | None = None,
    batches: dict[int, str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A series' times (microseconds since 2000-01-01) and values, in time order, read in one
    index-only scan of the covering index; with `batches` (projects/batches.py), without the
    points that repeat a batch's.

    Each column comes back as one array in PostgreSQL's binary form and is read with
    `np.frombuffer`: no Python object per row, which is what makes 100k points affordable. The
    snapshots are looked up afterwards, for the points kept only."""
    where = ["series_id = %s"]
    params: list[object] = [series_id]
    if since is not None:
        where.append("timestamp >= %s")
        params.append(since)
    if until is not None:
        where.append("timestamp < %s")
        params.append(until)
    restrict, restrict_params = _filter_sql(snapshots)
    params.extend(restrict_params)
    # The snapshot of each point only when a batch is shared: the covering index holds it too.
    keys_sql = ", array_send(array_agg(snapshot_id))" if batches else ""
    sql = (
        f"SELECT array_send(array_agg(timestamp)), array_send(array_agg(value)){keys_sql} "
        f"FROM {MetricPoint._meta.db_table} WHERE {' AND '.join(where)}{restrict}"
    )
    with _binary_cursor() as cursor:
        cursor.execute(sql, params, binary=True)
        row = cursor.fetchone()
        assert row is not None  # an aggregate answers one row
    micros_array, values_array = pgbinary.int8_array(row[0]), pgbinary.float8_array(row[1])
    if batches:
        keep = first_of_each_batch(pgbinary.int8_array(row[2]), batches)
        micros_array, values_array = micros_array[keep], values_array[keep]
    # The scan returns them in time order as a rule: confirming it is cheaper than sorting.
    if np.any(micros_array[1:] < micros_array[:-1]):
        order = np.argsort(micros_array, kind="stable")
        micros_array, values_array = micros_array[order], values_array[order]
    return micros_array, values_array


def _binary_cursor() -> psycopg.Cursor:
    # A cursor of psycopg's own, for binary results: Django's cursors bind on the client and
    # read text, which would hex-encode the arrays.
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _snapshots_at(
    series_id: int, micros: np.ndarray, values: np.ndarray
) -> list[tuple[int | None, str | None]]:
    """The snapshot (key, id) of each given point of a series, found by its time and value: when
    two snapshots have the same time and value there, the older key. (None, None) for a point
    whose snapshot was deleted since it was read.

    One index-only probe of the covering index for all the times at once, its answer in the
    same binary arrays as `_fetch_postgresql`."""
    sql = f"""
        SELECT array_send(array_agg(point.timestamp)), array_send(array_agg(point.value)),
               array_send(array_agg(point.snapshot_id)), array_send(array_agg(snapshot.uuid))
        FROM {MetricPoint._meta.db_table} AS point
        JOIN {Snapshot._meta.db_table} AS snapshot ON snapshot.id = point.snapshot_id
        WHERE point.series_id = %s AND point.timestamp = ANY(ARRAY(
            SELECT {pgbinary.EPOCH_SQL} + wanted * interval '1 microsecond'
            FROM unnest(%s::text::int8[]) AS wanted
        ))
    """
    with _binary_cursor() as cursor:
        # The times as one array literal: psycopg adapts a list element by element.
        wanted = "{" + ",".join(map(str, micros.tolist())) + "}"
        cursor.execute(sql, [series_id, wanted], binary=True)
        row = cursor.fetchone()
        assert row is not None  # an aggregate answers one row
        times, found_values, keys, uuids = row
    by_point: dict[tuple[int, float], tuple[int, bytes]] = {}
    if keys is not None:
        rows = zip(
            pgbinary.int8_array(times).tolist(),
            pgbinary.float8_array(found_values).tolist(),
            pgbinary.int8_array(keys).tolist(),
            pgbinary.uuid_array(uuids),
            strict=True,
        )
        for when, value, key, raw_uuid in rows:
            known = by_point.get((when, value))
            if known is None or key < known[0]:
                by_point[(when, value)] = (key, raw_uuid)
    missing = (None, None)
    return [
        (key, None if raw is None else _uuid_text(raw))
        for key, raw in (
            by_point.get((when, value), missing)
            for when, value in zip(micros.tolist(), values.tolist(), strict=True)
        )
    ]


def _uuid_text(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _read_postgresql(
    one: MetricSeries,
    since: datetime | None,
    until: datetime | None,
    points: int,
    snapshots: QuerySet | None,
    batches: dict[int, str],
) -> SeriesPoints:
    micros, values = _fetch_postgresql(one.pk, since, until, snapshots, batches)
    seconds = micros / 1e6 + pgbinary.EPOCH_SECONDS
    keep = min_max_buckets(seconds, values, points)
    found = _snapshots_at(one.pk, micros[keep], values[keep])
    # Points of one time in snapshot order, as the other databases read them; the points of a
    # snapshot deleted meanwhile are left out.
    keys = np.array([-1 if key is None else key for key, _ in found], dtype=np.int64)
    order = [i for i in np.lexsort((keys, micros[keep])).tolist() if keys[i] >= 0]
    return SeriesPoints(
        one,
        len(micros),
        seconds[keep][order],
        values[keep][order],
        [found[i][1] for i in order],
        summarise(values),
    )


def _read_other(
    project: Project,
    one: MetricSeries,
    since: datetime | None,
    until: datetime | None,
    points: int,
    snapshots: QuerySet | None,
    batches: dict[int, str],
) -> SeriesPoints:
    rows = MetricPoint.objects.filter(series_id=one.pk)
    if snapshots is not None:
        rows = rows.filter(snapshot_id__in=snapshots.values("pk"))
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    if until is not None:
        rows = rows.filter(timestamp__lt=until)
    values_list = list(
        rows.order_by("timestamp", "snapshot_id").values_list("timestamp", "value", "snapshot_id")
    )
    timestamps = np.array([r[0].timestamp() for r in values_list], dtype=np.float64)
    values = np.array([r[1] for r in values_list], dtype=np.float64)
    keys = np.array([r[2] for r in values_list], dtype=np.int64)
    once = first_of_each_batch(keys, batches)
    timestamps, values, keys = timestamps[once], values[once], keys[once]
    keep = min_max_buckets(timestamps, values, points)
    uuids = dict(
        Snapshot.objects.filter(project=project, pk__in=[int(k) for k in keys[keep]]).values_list(
            "pk", "uuid"
        )
    )
    uuids_kept = [str(uuids[k]) if k in uuids else None for k in keys[keep].tolist()]
    return SeriesPoints(
        one, len(values), timestamps[keep], values[keep], uuids_kept, summarise(values)
    )


def read_series(
    project: Project,
    series: list[MetricSeries],
    *,
    since: datetime | None,
    until: datetime | None,
    points: int,
    snapshots: QuerySet | None = None,
) -> list[SeriesPoints]:
    """The points of each series over [since, until), downsampled to at most `points` each;
    with `snapshots` (a queryset of the project's snapshots), only the points of those. A batch
    pushed as several snapshots gives one point per series (projects/batches.py)."""
    batches = shared_batches(project)
    if connection.vendor == "postgresql":
        return [_read_postgresql(one, since, until, points, snapshots, batches) for one in series]
    return [_read_other(project, one, since, until, points, snapshots, batches) for one in series]


def as_json(found: list[SeriesPoints]) -> list[dict[str, object]]:
    return [
        {
            **f.series.as_dict(),
            "total": f.total,
            "downsampled": f.downsampled,
            "points": {"t": f.timestamps.tolist(), "v": f.values.tolist(), "snapshot": f.snapshots},
        }
        for f in found
    ]


def as_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
