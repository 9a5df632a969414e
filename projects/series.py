"""Reading metric series: the points of some series over a time range, downsampled for charts.

Downsampling keeps real points: the time range is cut into buckets and each bucket keeps its
lowest and its highest point (so a spike or a dip is never smoothed away), each with the id of the
snapshot it came from, for drill-down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from projects.models import MetricPoint, MetricSeries, Project, Snapshot

MAX_POINTS = 5000


@dataclass
class SeriesPoints:
    series: MetricSeries
    total: int
    timestamps: np.ndarray  # seconds since the epoch
    values: np.ndarray
    snapshot_ids: np.ndarray  # internal snapshot keys

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
    order = np.lexsort((values, bucket))  # by bucket, then value
    sorted_buckets = bucket[order]
    first = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    last = np.r_[first[1:], n] - 1
    return np.unique(np.concatenate([order[first], order[last]]))


def _fetch(
    series_id: int, since: datetime | None, until: datetime | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if connection.vendor == "postgresql":
        # Seconds as floats straight from the database: no datetime object per row.
        where = ["series_id = %s"]
        params: list[object] = [series_id]
        if since is not None:
            where.append("timestamp >= %s")
            params.append(since)
        if until is not None:
            where.append("timestamp < %s")
            params.append(until)
        sql = (
            "SELECT extract(epoch FROM timestamp)::float8, value, snapshot_id "
            f"FROM {MetricPoint._meta.db_table} WHERE {' AND '.join(where)} ORDER BY timestamp, id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
        data = np.array(rows, dtype=np.float64)
        return data[:, 0], data[:, 1], data[:, 2].astype(np.int64)
    points = MetricPoint.objects.filter(series_id=series_id)
    if since is not None:
        points = points.filter(timestamp__gte=since)
    if until is not None:
        points = points.filter(timestamp__lt=until)
    rows = list(points.order_by("timestamp", "id").values_list("timestamp", "value", "snapshot_id"))
    timestamps = np.array([r[0].timestamp() for r in rows], dtype=np.float64)
    return (
        timestamps,
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.int64),
    )


def read_series(
    series: list[MetricSeries], *, since: datetime | None, until: datetime | None, points: int
) -> list[SeriesPoints]:
    found = []
    for one in series:
        timestamps, values, snapshot_ids = _fetch(one.pk, since, until)
        keep = min_max_buckets(timestamps, values, points)
        found.append(
            SeriesPoints(one, len(timestamps), timestamps[keep], values[keep], snapshot_ids[keep])
        )
    return found


def snapshot_uuids(project: Project, keys: np.ndarray) -> dict[int, str]:
    unique = [int(k) for k in np.unique(keys)]
    return {
        pk: str(u)
        for pk, u in Snapshot.objects.filter(project=project, pk__in=unique).values_list(
            "pk", "uuid"
        )
    }


def as_json(found: list[SeriesPoints], project: Project) -> list[dict[str, object]]:
    all_keys = (
        np.concatenate([f.snapshot_ids for f in found]) if found else np.empty(0, dtype=np.int64)
    )
    uuids = snapshot_uuids(project, all_keys)
    return [
        {
            **f.series.as_dict(),
            "total": f.total,
            "downsampled": f.downsampled,
            "points": {
                "t": f.timestamps.tolist(),
                "v": f.values.tolist(),
                "snapshot": [uuids.get(int(k)) for k in f.snapshot_ids],
            },
        }
        for f in found
    ]


def as_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
