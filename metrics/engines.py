"""The same reports over distributed engines: a Spark DataFrame or a Dask DataFrame given to
`Report.run` is reduced partition by partition into the mergeable partials of `metrics.streaming`
(`frame_partials`, one implementation of the statistics for every engine), and only the partials
travel back to this process, where they are merged and the metrics read off them.

Install the engine you use: ``pip install ".[spark]"`` or ``pip install ".[dask]"``; the core
library imports neither. What is exact and what is sketched is as for streamed Parquet (see
`metrics.streaming` and docs/metrics.md).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.core.progress import Progress
from metrics.streaming import (
    SAMPLE_ROWS,
    ParquetSource,
    Plan,
    SidePartials,
    Source,
    frame_histograms,
    frame_partials,
    merge_all,
)


def source_of(data: Any, side: str, like: Any = None) -> Source:
    """The streamed source for `data`; the reference must be of the same kind as the current data."""
    kind = _kind(data)
    if like is not None and kind != _kind(like):
        raise ValueError(
            f"The current data is {_kind(like)} and the reference {kind or type(data).__name__}: "
            "give both sides the same way (both Parquet, both Spark or both Dask)."
        )
    if kind is None:
        raise ValueError(
            f"The {side} data is a {type(data).__name__}: give a pandas DataFrame, Parquet "
            "files (a path, a directory or a list), a Spark DataFrame or a Dask DataFrame."
        )
    if kind == "Parquet":
        return ParquetSource.of(data)
    if kind == "Spark":
        return SparkSource(data)
    return DaskSource(data)


def _kind(data: Any) -> str | None:
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple))
        and bool(data)
        and all(isinstance(p, (str, os.PathLike)) for p in data)
    ):
        return "Parquet"
    module = type(data).__module__
    if module.startswith("pyspark.") and hasattr(data, "mapInPandas"):
        return "Spark"
    if module.startswith(("dask.", "dask_expr.")) and hasattr(data, "to_delayed"):
        return "Dask"
    return None


class _Partitioned:
    """What both engines share: each partition's partials (or histogram counts), computed where
    the partition lives by `_map`, merged here in partition order."""

    def _map(self, function: Any, bar: Progress, note: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    def partials(self, plan: Plan, bar: Progress, side: str) -> SidePartials:
        return merge_all(self._map(frame_partials, bar, f"{side} partitions", plan, side))

    def histograms(
        self, plan: Plan, edges: dict[str, np.ndarray], bar: Progress, side: str
    ) -> dict[str, np.ndarray]:
        return _sum_counts(self._map(frame_histograms, bar, f"{side} histograms", plan, edges))


# ---- Dask -----------------------------------------------------------------------------------------


@dataclass
class DaskSource(_Partitioned):
    """A Dask DataFrame: one task per partition computes its partials; with a `distributed` client
    the tasks run on its workers and the bar counts the partitions as they finish."""

    frame: Any
    title: str = "Computing over Dask partitions"

    @property
    def steps(self) -> int:
        return int(self.frame.npartitions)

    def sample(self, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
        sample = self.frame.head(rows, npartitions=min(self.frame.npartitions, 4), compute=True)
        if len(sample) == 0:
            raise ValueError("The Dask DataFrame has no rows (in its first partitions).")
        return sample

    def _map(self, function: Any, bar: Progress, note: str, *args: Any) -> list[Any]:
        import dask

        tasks = [dask.delayed(function)(part, *args) for part in self.frame.to_delayed()]
        try:
            from distributed import as_completed, get_client

            client = get_client()
        except (ImportError, ValueError):
            computed = list(dask.compute(*tasks))
            bar.advance(len(tasks), note=note)
            return computed
        futures = client.compute(tasks)
        order = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for future in as_completed(futures):
            results[order[future.key]] = future.result()
            bar.advance(note=note)
        return results


# ---- Spark ----------------------------------------------------------------------------------------


@dataclass
class SparkSource(_Partitioned):
    """A Spark DataFrame: `mapInPandas` computes each partition's partials on the executors
    (Arrow batches to pandas) and returns them pickled, one row per partition."""

    frame: Any
    title: str = "Computing over Spark partitions"

    @property
    def steps(self) -> int:
        return int(self.frame.rdd.getNumPartitions())

    def sample(self, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
        sample = self.frame.limit(rows).toPandas()
        if len(sample) == 0:
            raise ValueError("The Spark DataFrame has no rows.")
        return sample

    def _map(self, function: Any, bar: Progress, note: str, *args: Any) -> list[Any]:
        columns = list(self.frame.columns)

        def per_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            frames = list(batches)
            frame = (
                pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
            )
            result = function(frame, *args)
            yield pd.DataFrame({"partial": [pickle.dumps(result)]})

        rows = self.frame.mapInPandas(per_partition, schema="partial binary").collect()
        bar.advance(self.steps, note=note)
        return [pickle.loads(row["partial"]) for row in rows]


def _sum_counts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    total: dict[str, np.ndarray] = {}
    for part in parts:
        for column, counts in part.items():
            total[column] = counts if column not in total else total[column] + counts
    return total
