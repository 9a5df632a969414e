"""What a dashboard's panels draw: for a tab (or one panel), a time range and filters, each panel's
series, aggregates, test results or distributions, read from points and summary rows, never from
whole snapshots (but for the few documents a distribution panel samples).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Trunc

from mlplatform import querystring
from projects import series as series_reading
from projects.batches import batch_count, count_batches, repeated_outcomes, shared_batches
from projects.dashboards import relevance
from projects.dashboards.prebuilt_tabs import PALETTE
from projects.models import (
    META_KEY,
    MetricPoint,
    MetricSeries,
    Project,
    Snapshot,
    SnapshotDocument,
    TestOutcome,
)

STATUSES = ("SUCCESS", "WARNING", "FAIL", "ERROR", "SKIPPED")
# Points per series: about one per horizontal pixel pair of a wide panel, fewer where bars are drawn.
POINTS = {"line": 600, "scatter": 600, "bar": 150, "counter": 120}
DISTRIBUTION_COLUMNS = 40
# Series read at once for one dashboard on PostgreSQL (a connection each).
PARALLEL_READS = 3


@dataclass
class Window:
    """A time range and the snapshot filters of a dashboard view."""

    key: str  # 24h, 7d, 30d, 90d, 1y, all or custom
    since: datetime | None
    until: datetime | None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.tags or self.metadata)

    def as_dict(self) -> dict[str, Any]:
        return {
            "range": self.key,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "tags": self.tags,
            "metadata": self.metadata,
        }


def parse_window(params: Any, *, now: datetime | None = None) -> Window:
    """The window of query parameters `range`, `since` and `until`, `tag` and `meta.<key>` (or the
    filter box's `meta=key=value ...`); a refused parameter raises `QueryError`."""
    tags = querystring.tags(params)
    metadata = querystring.metadata(params, key=META_KEY, box=True)
    found = querystring.time_range(params, now=now or datetime.now(UTC))
    return Window(found.key, found.since, found.until, tags, metadata)


def _snapshots(project: Project, window: Window) -> QuerySet:
    snapshots = Snapshot.objects.filter(project=project)
    if window.since:
        snapshots = snapshots.filter(timestamp__gte=window.since)
    if window.until:
        snapshots = snapshots.filter(timestamp__lt=window.until)
    return snapshots.matching(project, tags=window.tags, metadata=window.metadata)


class _Reader:
    """Reads each series once for all the panels that plot it, at the largest point budget any of
    them asks for."""

    def __init__(self, project: Project, window: Window, panels: list[dict[str, Any]]) -> None:
        self.project = project
        self.window = window
        budget: dict[tuple[str, str], int] = {}
        for panel in panels:
            for entry in panel.get("series", ()) if panel["type"] in POINTS else ():
                key = (entry["metric"], entry["field"])
                budget[key] = max(budget.get(key, 0), POINTS[panel["type"]])
        metrics = {metric for metric, _ in budget}
        self.series = {
            (one.metric_id, one.field): one
            for one in MetricSeries.objects.filter(project=project, metric_id__in=metrics)
            if (one.metric_id, one.field) in budget
        }
        self.budget = {one.pk: budget[key] for key, one in self.series.items()}
        self.filter = (
            Snapshot.objects.filter(project=project).matching(
                project, tags=window.tags, metadata=window.metadata
            )
            if window.filtered
            else None
        )
        self.read: dict[int, series_reading.SeriesPoints] = {}

    def jobs(self) -> list[Callable[[], None]]:
        """One job per series to read; run them before asking for `points`."""
        return [partial(self._read, one) for one in self.series.values()]

    def _read(self, one: MetricSeries) -> None:
        (self.read[one.pk],) = series_reading.read_series(
            self.project,
            [one],
            since=self.window.since,
            until=self.window.until,
            points=self.budget[one.pk],
            snapshots=self.filter,
        )

    def points(self, metric: str, field_path: str) -> series_reading.SeriesPoints | None:
        one = self.series.get((metric, field_path))
        return None if one is None else self.read[one.pk]


def _in_thread(job: Callable[[], None]) -> None:
    try:
        job()
    finally:
        connection.close()  # this thread's own connection (back to the pool in production)


def _run(jobs: list[Callable[[], None]]) -> None:
    """Run the jobs, several at once on PostgreSQL: most of their time is PostgreSQL's (index
    scans, aggregates), each in a backend process of its own, so several connections put several
    cores on one dashboard. Other connections do not see an open transaction's rows, so inside
    one (tests, a caller's atomic block) they run here, one after another."""
    workers = min(PARALLEL_READS, len(jobs))
    pool_size = (connection.settings_dict.get("OPTIONS") or {}).get("pool")
    if isinstance(pool_size, dict) and "max_size" in pool_size:
        workers = min(workers, pool_size["max_size"] - 1)  # this thread holds one already
    if workers < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        for job in jobs:
            job()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_in_thread, jobs))


def _series_panel(reader: _Reader, panel: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for entry in panel["series"]:
        found = reader.points(entry["metric"], entry["field"])
        line: dict[str, Any] = {
            "metric": entry["metric"],
            "field": entry["field"],
            "label": entry.get("label") or entry["field"],
        }
        if found is None:
            lines.append({**line, "missing": True, "total": 0, "t": [], "v": [], "snapshot": []})
            continue
        lines.append(
            {
                **line,
                "series_id": found.series.pk,
                "total": found.total,
                "downsampled": found.downsampled,
                "t": found.timestamps.tolist(),
                "v": found.values.tolist(),
                "snapshot": found.snapshots,
                "stats": found.stats,
            }
        )
    data: dict[str, Any] = {"series": lines, "empty": all(line["total"] == 0 for line in lines)}
    if panel["type"] == "counter" and lines:
        data["value"] = (lines[0].get("stats") or {}).get(panel["aggregate"])
    return data


def _period(window: Window, requested: str, project: Project) -> str:
    if requested != "auto":
        return requested
    since = window.since
    if since is None:
        first = Snapshot.objects.filter(project=project).order_by("timestamp").first()
        since = first.timestamp if first else datetime.now(UTC)
    span = (window.until or datetime.now(UTC)) - since
    if span <= timedelta(days=3):
        return "hour"
    if span <= timedelta(days=120):
        return "day"
    if span <= timedelta(days=800):
        return "week"
    return "month"


def _status_sums(rows: QuerySet) -> QuerySet:
    return rows.annotate(
        SUCCESS=Sum("tests_success"),
        WARNING=Sum("tests_warning"),
        FAIL=Sum("tests_fail"),
        ERROR=Sum("tests_error"),
        SKIPPED=Sum("tests_skipped"),
        snapshots=batch_count(),
    )


def _minus_repeats(
    buckets: dict[Any, dict[str, int]], repeats: list[int], period: str | None
) -> None:
    """Take the outcomes that repeat their batch's (projects/batches.py) out of the counts by
    status, per period (or under the key None)."""
    if not repeats:
        return
    rows = TestOutcome.objects.filter(pk__in=repeats).order_by()
    if period is not None:
        rows = rows.annotate(period=Trunc("timestamp", period, tzinfo=UTC))
    for row in rows.values(*(["period"] if period else []), "status").annotate(n=Count("id")):
        counts = buckets.get(row.get("period"))
        if counts is not None:
            counts[row["status"]] = max(0, counts[row["status"]] - row["n"])


def _test_status(project: Project, window: Window, panel: dict[str, Any]) -> dict[str, Any]:
    """Tests per status in each period: from the snapshots' counts, or for chosen tests from their
    outcomes."""
    period = _period(window, panel["period"], project)
    snapshots = _snapshots(project, window)
    buckets: dict[datetime, dict[str, int]] = {}
    repeats = repeated_outcomes(shared_batches(project), snapshots, panel["tests"] or None)
    if panel["tests"]:
        outcomes = (
            TestOutcome.objects.filter(
                project_id=project.pk,
                test_id__in=panel["tests"],
                snapshot_id__in=snapshots.values("pk"),
            )
            .exclude(pk__in=repeats)
            .annotate(period=Trunc("timestamp", period, tzinfo=UTC))
            .values("period", "status")
            .annotate(n=Count("id"))
        )
        for row in outcomes:
            buckets.setdefault(row["period"], dict.fromkeys(STATUSES, 0))[row["status"]] = row["n"]
    else:
        rows = _status_sums(
            snapshots.order_by()
            .annotate(period=Trunc("timestamp", period, tzinfo=UTC))
            .values("period")
        )
        for row in rows:
            buckets[row["period"]] = {s: row[s] or 0 for s in STATUSES}
        _minus_repeats(buckets, repeats, period)
    times = sorted(buckets)
    return {
        "period": period,
        "t": [t.timestamp() for t in times],
        **{s: [buckets[t][s] for t in times] for s in STATUSES},
        "empty": not times,
    }


def _test_counts(project: Project, window: Window, panel: dict[str, Any]) -> dict[str, Any]:
    """Tests per status over the range, and the latest snapshot's results with what went wrong."""
    snapshots = _snapshots(project, window)
    repeats = repeated_outcomes(shared_batches(project), snapshots, panel["tests"] or None)
    if panel["tests"]:
        outcomes = TestOutcome.objects.filter(
            project_id=project.pk,
            test_id__in=panel["tests"],
            snapshot_id__in=snapshots.values("pk"),
        ).exclude(pk__in=repeats)
        totals = dict.fromkeys(STATUSES, 0)
        for row in outcomes.values("status").annotate(n=Count("id")).order_by():
            totals[row["status"]] = row["n"]
        count = count_batches(snapshots)
    else:
        sums: dict[str, Any] = _status_sums(snapshots.order_by().values("project")).first() or {}
        totals = {s: int(sums.get(s) or 0) for s in STATUSES}
        _minus_repeats({None: totals}, repeats, None)
        count = sums.get("snapshots", 0)
    latest = snapshots.order_by("-timestamp", "-id").first()
    last: dict[str, Any] | None = None
    if latest is not None:
        problems = TestOutcome.objects.filter(
            snapshot_id=latest.pk, status__in=["FAIL", "ERROR", "WARNING"]
        )
        if panel["tests"]:
            problems = problems.filter(test_id__in=panel["tests"])
        last = {
            "snapshot": str(latest.uuid),
            "t": latest.timestamp.timestamp(),
            "counts": latest.test_counts,
            "problems": [
                {"name": p.name, "status": p.status, "description": p.description}
                for p in problems.order_by("status", "name")[:5]
            ],
        }
    return {
        "totals": totals,
        "snapshots": count,
        "latest": last,
        "empty": not any(totals.values()),
    }


def _distribution(project: Project, window: Window, panel: dict[str, Any]) -> dict[str, Any]:
    """The metric's histogram in up to DISTRIBUTION_COLUMNS snapshots spread over the range: the
    snapshots are found through the metric's count series, and only their documents are read."""
    count_series = (
        MetricSeries.objects.filter(project=project, metric_id=panel["metric"])
        .order_by("field")
        .first()
    )
    if count_series is None:
        return {"columns": [], "empty": True, "missing": True}
    points = MetricPoint.objects.filter(series_id=count_series.pk)
    if window.since:
        points = points.filter(timestamp__gte=window.since)
    if window.until:
        points = points.filter(timestamp__lt=window.until)
    if window.filtered:
        points = points.filter(snapshot_id__in=_snapshots(project, window).values("pk"))
    first = points.order_by("timestamp").values_list("timestamp", flat=True).first()
    last = points.order_by("-timestamp").values_list("timestamp", flat=True).first()
    keys: list[int] = []
    if first is not None and last is not None:
        steps = DISTRIBUTION_COLUMNS
        span = (last - first) / max(1, steps - 1)
        # One index probe per column: the first snapshot at or after each evenly spaced time.
        for i in range(steps):
            at = first + span * i
            key = (
                points.filter(timestamp__gte=at)
                .order_by("timestamp")
                .values_list("snapshot_id", flat=True)
                .first()
            )
            if key is not None and key not in keys:
                keys.append(key)
            if span == timedelta(0):
                break
    snapshots = {
        s.pk: s for s in Snapshot.objects.filter(pk__in=keys).only("id", "uuid", "timestamp")
    }
    columns = []
    for document in SnapshotDocument.objects.filter(snapshot_id__in=keys):
        body = orjson.loads(zlib.decompress(bytes(document.body)))
        metric = next((m for m in body.get("metrics", ()) if m.get("id") == panel["metric"]), None)
        dist = (metric or {}).get("distribution") or {}
        counts = dist.get(panel["side"])
        if not counts:
            continue
        snapshot = snapshots[document.snapshot_id]
        columns.append(
            {
                "t": snapshot.timestamp.timestamp(),
                "snapshot": str(snapshot.uuid),
                "kind": dist.get("kind"),
                "edges": dist.get("edges"),
                "labels": dist.get("labels"),
                "counts": counts,
                "reference": dist.get("reference") if panel["side"] == "current" else None,
            }
        )
    columns.sort(key=lambda c: c["t"])
    return {"columns": columns, "empty": not columns}


def panel_data(
    project: Project, panels: list[dict[str, Any]], window: Window
) -> dict[str, dict[str, Any]]:
    """Each panel's data, by panel id."""
    ranked = {
        panel["id"]: relevance.resolve(
            project,
            panel["columns"],
            since=window.since,
            until=window.until,
            snapshots=_snapshots(project, window) if window.filtered else None,
            palette=PALETTE,
        )
        for panel in panels
        if panel.get("columns") and panel["type"] in POINTS
    }
    # A ranked panel draws the columns its rule chose in this range, like panels that name them.
    panels = [
        {**panel, "series": ranked[panel["id"]]["series"]} if panel["id"] in ranked else panel
        for panel in panels
    ]
    reader = _Reader(project, window, panels)
    out: dict[str, dict[str, Any]] = {}
    readers = {
        "test_status": _test_status,
        "test_counts": _test_counts,
        "distribution": _distribution,
    }

    def own(panel: dict[str, Any]) -> Callable[[], None]:
        def job() -> None:
            out[panel["id"]] = readers[panel["type"]](project, window, panel)

        return job

    # The slow parts first, so that they overlap: series reads and the panels that aggregate.
    _run(reader.jobs() + [own(p) for p in panels if p["type"] in readers])
    for panel in panels:
        if panel["type"] in POINTS:
            out[panel["id"]] = _series_panel(reader, panel)
            if panel["id"] in ranked:
                found = ranked[panel["id"]]
                out[panel["id"]].update(
                    columns=found["columns"],
                    caption=found["caption"],
                    thresholds=found["thresholds"],
                )
        elif panel["type"] == "text":
            out[panel["id"]] = {"empty": False}
    return {panel["id"]: out[panel["id"]] for panel in panels}
