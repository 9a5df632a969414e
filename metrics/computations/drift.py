"""Data drift: per column (numerical, categorical and text), over the whole dataset (the share of
drifted columns), and for embeddings.

The method for a column is, in order: the one set for that column, for its type, for the run, or
the default, which depends on the reference's size and the column's cardinality (distinct values of
reference and current together, as Evidently counts them). With at most 1000 reference values,
numerical columns with more than 5 distinct values get Kolmogorov-Smirnov and the others chi-square
(the two-proportion z-test when binary); with more, numerical columns with more than 5 distinct
values get the normed Wasserstein distance and the others Jensen-Shannon. (P-value tests flag almost
any difference on large samples, hence the switch to distances.) Text columns get a domain
classifier. Nulls are left out; so are infinities for numerical columns.

Methods can be named by Evidently's names too (`chisquare`, `z`, `jensenshannon`, ...; see
`drift_methods.ALIASES`); they are replaced by ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from metrics.computations import drift_methods, embedding_drift, text_drift
from metrics.computations.column_stats import label_text, ranked
from metrics.core.base import Context, Metric, MetricError, MetricResult
from metrics.core.definition import ColumnType, Schema

SMALL_REFERENCE = 1000
FEW_VALUES = 5
# At most this many new (and vanished) categories are named in a drift result's details.
CHANGED_CATEGORIES_SHOWN = 20
TEXT_METHOD = "domain_classifier"
DRIFT_SHARE = 0.5


def default_method(column_type: ColumnType, reference_size: int, distinct: int) -> str:
    """The catalogue's default method for a column (see the module docstring)."""
    many_values = column_type == ColumnType.NUMERICAL and distinct > FEW_VALUES
    if reference_size <= SMALL_REFERENCE:
        if many_values:
            return "ks"
        return "z_test" if distinct <= 2 else "chi_square"
    return "wasserstein" if many_values else "jensen_shannon"


def resolve_method(method: str | None, where: str) -> str | None:
    """The method's canonical name (Evidently's names accepted); ValueError naming `where` and the
    valid names for an unknown one."""
    if method is None or method == TEXT_METHOD:
        return method
    try:
        return drift_methods.canonical(method)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class DriftOptions:
    """Which method and threshold each column's drift uses.

    Precedence: `per_column_*`, then the type's (`numerical_*`, `categorical_*`, `text_threshold`),
    then the run's (`method`, `threshold`), then the defaults.
    """

    method: str | None = None
    threshold: float | None = None
    numerical_method: str | None = None
    numerical_threshold: float | None = None
    categorical_method: str | None = None
    categorical_threshold: float | None = None
    text_threshold: float | None = None
    per_column_method: Mapping[str, str] = field(default_factory=dict)
    per_column_threshold: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Frozen: the canonical names (Evidently's aliases replaced) go in through object.__setattr__.
        for name in ("method", "numerical_method", "categorical_method"):
            object.__setattr__(self, name, resolve_method(getattr(self, name), name))
        per_column = {
            column: resolve_method(method, f"per_column_method[{column!r}]")
            for column, method in self.per_column_method.items()
        }
        object.__setattr__(self, "per_column_method", per_column)

    def for_column(self, column: str, column_type: ColumnType) -> tuple[str | None, float | None]:
        by_type_method = {
            ColumnType.NUMERICAL: self.numerical_method,
            ColumnType.CATEGORICAL: self.categorical_method,
        }.get(column_type)
        by_type_threshold = {
            ColumnType.NUMERICAL: self.numerical_threshold,
            ColumnType.CATEGORICAL: self.categorical_threshold,
            ColumnType.TEXT: self.text_threshold,
        }.get(column_type)
        method = self.per_column_method.get(column) or by_type_method
        if method is None and column_type != ColumnType.TEXT:
            method = self.method
        threshold = self.per_column_threshold.get(column)
        if threshold is None:
            threshold = by_type_threshold if by_type_threshold is not None else self.threshold
        return method, threshold

    def params(self) -> dict[str, Any]:
        return {
            k: (dict(v) if isinstance(v, Mapping) else v)
            for k, v in asdict(self).items()
            if v not in (None, {})
        }


def drift_columns(schema: Schema, columns: list[str] | None = None) -> list[str]:
    """Columns checked for drift: the given ones, or every numerical, categorical and text one."""
    if columns is not None:
        return list(columns)
    return schema.columns(ColumnType.NUMERICAL, ColumnType.CATEGORICAL, ColumnType.TEXT)


class ColumnDrift(Metric):
    """Drift of one column between reference and current.

    Values: `score` (the p-value or distance), `threshold`, `drifted`, and `statistic` where the
    method has one. Details: the method's name and title, whether the score is a p-value or a
    distance, and `rule`: how it meets the threshold to drift ("at or below", "below", "at or
    above", "above"; Evidently's convention per method).

    A categorical column also reports how its categories changed, whatever the method says:
    `new_categories` (distinct values seen only in current), `vanished_categories` (only in the
    reference), `new_categories_share` (the share of current non-null values in new categories)
    and `vanished_categories_share` (the share of reference non-null values in vanished ones), with
    up to 20 of each named in details (`new_category_values`, `vanished_category_values`: value and
    count, most frequent first).
    """

    column_param = "column"
    requires_reference = True

    def __init__(
        self,
        *,
        column: str,
        method: str | None = None,
        threshold: float | None = None,
        bins: int | None = None,
    ) -> None:
        method = resolve_method(method, "method")
        if bins is not None and not 2 <= bins <= 1000:
            raise ValueError(f"bins must be between 2 and 1000, not {bins}.")
        super().__init__(column=column, method=method, threshold=threshold, bins=bins)

    def compute(self, ctx: Context) -> MetricResult:
        assert self.column is not None  # required by __init__
        pair = ctx.pair(self.column)
        reference = pair.require_reference()
        method_name = self.params.get("method")
        threshold = self.params.get("threshold")
        if pair.type == ColumnType.DATETIME:
            raise MetricError(
                f"Column {self.column!r} is a datetime; datetimes are not checked for drift."
            )
        if pair.type == ColumnType.TEXT:
            return self._text(pair, method_name, threshold)
        changes: dict[str, Any] = {}
        named: dict[str, Any] = {}
        if pair.type == ColumnType.NUMERICAL:
            ref, cur = reference.sorted_finite, pair.current.sorted_finite
            for side, data in (("reference", ref), ("current", cur)):
                if len(data) == 0:
                    raise MetricError(
                        f"Column {self.column!r} has no finite values in the {side} data."
                    )
            # Distinct values of both sides together (Evidently's count, and our categorical one's).
            distinct = _distinct_finite(pair)
            if method_name is None:
                method_name = default_method(pair.type, len(ref), distinct)
            method = drift_methods.METHODS[method_name]
            bins = self.params.get("bins")
            if method.input == "samples":
                measure = method.func(ref, cur)
            elif "numerical" in method.column_types:
                measure = method.func(*self._numeric_counts(pair, method, ref, cur, bins))
            elif distinct <= FEW_VALUES:
                # A numerical column with a handful of values is compared as categories.
                _, ref_counts, cur_counts = pair.shared_value_counts
                measure = method.func(ref_counts, cur_counts)
            else:
                raise MetricError(
                    f"{method.title} compares categories; {self.column!r} is numerical with "
                    f"more than {FEW_VALUES} distinct values. Declare it categorical, or choose "
                    "another method."
                )
        else:
            categories, ref_counts, cur_counts = pair.shared_category_counts
            method, measure, changes, named = categorical_drift(
                str(self.column), method_name, categories, ref_counts, cur_counts
            )
        return drift_result(self, method, measure, threshold, pair.type, changes, named)

    @staticmethod
    def _numeric_counts(
        pair: Any,
        method: drift_methods.DriftMethod,
        ref: np.ndarray,
        cur: np.ndarray,
        bins: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A numerical column's counts for a frequency method, binned as Evidently bins it: with an
        explicit `bins`, that many equal-width bins over the reference; for Hellinger, Sturges bins
        over the distinct values of both sides; otherwise one count per value when the reference
        has at most CATEGORICAL_MAX distinct values, else Sturges bins over both sides."""
        if bins is not None:
            _, ref_counts, cur_counts = drift_methods.bin_counts(ref, cur, bins)
        elif method.numeric_binning == "distinct":
            _, ref_counts, cur_counts = drift_methods.distinct_sturges_counts(ref, cur)
        elif pair.require_reference().n_unique_finite <= drift_methods.CATEGORICAL_MAX:
            _, ref_counts, cur_counts = pair.shared_value_counts
        else:
            _, ref_counts, cur_counts = drift_methods.sturges_counts(ref, cur)
        return ref_counts, cur_counts

    def _text(self, pair: Any, method_name: str | None, threshold: float | None) -> MetricResult:
        if method_name not in (None, TEXT_METHOD):
            raise MetricError(f"Text columns use the domain classifier, not {method_name!r}.")
        reference = pair.reference.series.dropna().astype(str).tolist()
        current = pair.current.series.dropna().astype(str).tolist()
        if not reference or not current:
            raise MetricError(
                f"Column {self.column!r} has no text in the {'reference' if not reference else 'current'} data."
            )
        threshold = text_drift.DEFAULT_THRESHOLD if threshold is None else threshold
        found = text_drift.domain_classifier_drift(reference, current, threshold=threshold)
        return self.result(
            {
                "score": found.auc,
                "threshold": threshold,
                "drifted": found.drifted,
                "statistic": None,
            },
            {
                "method": TEXT_METHOD,
                "method_title": "Domain classifier (ROC AUC)",
                "kind": "distance",
                "rule": "at or above",
                "column_type": "text",
                "reference_words": found.reference_words,
                "current_words": found.current_words,
            },
        )


def category_changes(
    categories: np.ndarray, reference: np.ndarray, current: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any]]:
    """New and vanished categories from aligned counts: (values, details) of a drift result.

    New: a positive current count and none in the reference; vanished: the other way round. The
    shares are of each side's non-null values (NaN for a side without any)."""
    new = (current > 0) & (reference == 0)
    vanished = (reference > 0) & (current == 0)
    cur_total, ref_total = int(current.sum()), int(reference.sum())
    values = {
        "new_categories": int(new.sum()),
        "vanished_categories": int(vanished.sum()),
        "new_categories_share": int(current[new].sum()) / cur_total if cur_total else float("nan"),
        "vanished_categories_share": int(reference[vanished].sum()) / ref_total
        if ref_total
        else float("nan"),
    }

    def named(mask: np.ndarray, counts: np.ndarray) -> list[dict[str, Any]]:
        where = np.flatnonzero(mask)
        top = where[ranked(categories[where], counts[where])[:CHANGED_CATEGORIES_SHOWN]]
        return [{"value": label_text(categories[i]), "count": int(counts[i])} for i in top]

    details = {
        "new_category_values": named(new, current),
        "vanished_category_values": named(vanished, reference),
    }
    return values, details


def _distinct_finite(pair: Any) -> int:
    """Distinct values of two sorted finite samples together, exact up to FEW_VALUES: every choice
    made from it only asks whether it is at most 2 or at most FEW_VALUES, so when either side alone
    has more, that side's count (already a lower bound above FEW_VALUES) is returned without
    merging large arrays."""
    n_reference, n_current = pair.require_reference().n_unique_finite, pair.current.n_unique_finite
    if max(n_reference, n_current) > FEW_VALUES:
        return max(n_reference, n_current)
    return len(pair.shared_value_counts[0])  # few values: cheap, and reused for their counts


def categorical_drift(
    column: str,
    method_name: str | None,
    categories: np.ndarray,
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
) -> tuple[drift_methods.DriftMethod, drift_methods.Measure, dict[str, Any], dict[str, Any]]:
    """A categorical column's drift from its counts per category (in memory or streamed): the
    method (given, or the default), its measure, and the new and vanished categories."""
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        side = "reference" if ref_counts.sum() == 0 else "current"
        raise MetricError(f"Column {column!r} has only nulls in the {side} data.")
    method_name = method_name or default_method(
        ColumnType.CATEGORICAL, int(ref_counts.sum()), len(categories)
    )
    method = drift_methods.METHODS[method_name]
    if "categorical" not in method.column_types:
        raise MetricError(f"{method.title} compares numbers; {column!r} is categorical.")
    if method_name == "z_test" and len(categories) > 2:
        raise MetricError(
            f"The z-test compares two categories; {column!r} has {len(categories)}. "
            "Use chi_square instead."
        )
    changes, named = category_changes(categories, ref_counts, cur_counts)
    return method, method.func(ref_counts, cur_counts), changes, named


def drift_result(
    metric: Metric,
    method: drift_methods.DriftMethod,
    measure: drift_methods.Measure,
    threshold: float | None,
    column_type: ColumnType,
    changes: dict[str, Any],
    named: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> MetricResult:
    """ColumnDrift's result: the score against the threshold (the method's default if none)."""
    if threshold is None:
        threshold = method.default_threshold
    return metric.result(
        {
            "score": measure.value,
            "threshold": threshold,
            "drifted": method.drifted(measure.value, threshold),
            "statistic": measure.statistic,
            **changes,
            **(extra or {}),
        },
        {
            "method": method.name,
            "method_title": method.title,
            "kind": method.kind,
            "rule": method.rule,
            "column_type": str(column_type),
            **named,
        },
    )


class DatasetDrift(Metric):
    """Whether the dataset drifted: the share of drifted columns is at least `drift_share`.

    Values: `drifted_columns`, `columns` (checked, without errors), `drifted_share`, `drift_share`
    and `dataset_drift`. Each column's own drift is a `ColumnDrift` result of the same run.
    """

    requires_reference = True

    def __init__(
        self,
        *,
        columns: list[str] | None = None,
        drift_share: float = DRIFT_SHARE,
        options: DriftOptions | None = None,
    ) -> None:
        if not 0 < drift_share <= 1:
            raise ValueError(f"drift_share must be in (0, 1], not {drift_share}.")
        self.options = options or DriftOptions()
        super().__init__(columns=columns, drift_share=drift_share, **self.options.params())

    def column_metrics(self, schema: Schema) -> list[ColumnDrift]:
        metrics = []
        for column in drift_columns(schema, self.params.get("columns")):
            method, threshold = self.options.for_column(column, schema.type_of(column))
            metrics.append(ColumnDrift(column=column, method=method, threshold=threshold))
        return metrics

    def dependencies(self, schema: Schema) -> list[Metric]:
        return list(self.column_metrics(schema))

    def compute(self, ctx: Context) -> MetricResult:
        drifted, checked, failed = [], [], []
        for metric in self.column_metrics(ctx.schema):
            result = ctx.result(metric)
            if result.status != "ok":
                failed.append({"column": metric.column, "reason": result.reason})
                continue
            checked.append(metric.column)
            if result.values["drifted"]:
                drifted.append(metric.column)
        if not checked:
            raise MetricError(
                "No column could be checked for drift: "
                + "; ".join(f"{f['column']}: {f['reason']}" for f in failed)
            )
        share = len(drifted) / len(checked)
        return self.result(
            {
                "drifted_columns": len(drifted),
                "columns": len(checked),
                "drifted_share": share,
                "drift_share": self.params["drift_share"],
                "dataset_drift": share >= self.params["drift_share"],
            },
            {"drifted": drifted[:100], "not_checked": failed[:100]},
        )


class EmbeddingsDrift(Metric):
    """Drift of a named group of embedding columns (see `DataDefinition.embeddings`).

    `method="distance"`: the distance between the mean vectors (euclidean, or `metric="cosine"`);
    `method="share"`: the share of components that drifted on their own. Values: `score`,
    `threshold`, `drifted`.
    """

    requires_reference = True

    def __init__(
        self,
        *,
        embeddings: str,
        method: str = "distance",
        metric: str = "euclidean",
        threshold: float | None = None,
    ) -> None:
        if method not in ("distance", "share"):
            raise ValueError(f"method must be 'distance' or 'share', not {method!r}.")
        if metric not in ("euclidean", "cosine"):
            raise ValueError(f"metric must be 'euclidean' or 'cosine', not {metric!r}.")
        super().__init__(embeddings=embeddings, method=method, metric=metric, threshold=threshold)

    def compute(self, ctx: Context) -> MetricResult:
        name = self.params["embeddings"]
        columns = ctx.schema.embeddings.get(name)
        if not columns:
            known = ", ".join(sorted(ctx.schema.embeddings)) or "none"
            raise MetricError(
                f"No embeddings called {name!r} in the data definition (known: {known})."
            )
        assert ctx.reference is not None
        reference = ctx.reference[columns].to_numpy(dtype=np.float64, na_value=np.nan)
        current = ctx.current[columns].to_numpy(dtype=np.float64, na_value=np.nan)
        threshold = self.params.get("threshold")
        if self.params["method"] == "distance":
            found = embedding_drift.centroid_distance(
                reference,
                current,
                metric=self.params["metric"],
                threshold=embedding_drift.DEFAULT_DISTANCE_THRESHOLD
                if threshold is None
                else threshold,
            )
        else:
            found = embedding_drift.drifted_components_share(
                reference,
                current,
                threshold=embedding_drift.DEFAULT_SHARE_THRESHOLD
                if threshold is None
                else threshold,
            )
        return self.result(
            {"score": found.value, "threshold": found.threshold, "drifted": found.drifted},
            {"components": len(columns)},
        )
