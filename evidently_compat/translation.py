"""Evidently 0.7 snapshots (`Snapshot.dump_dict()`) as our snapshot documents.

An Evidently snapshot holds one result per metric (`metric_results`, keyed by the metric's
fingerprint), each result made of numbers ("components": a single value, a count and a share, a
mean and a standard deviation, values by label) with the tests run on it. Where one of our
metrics says the same thing, a component becomes a field of that metric, under our metric id and
field name (`metrics.names`): `ValueDrift(column=c)` is `ColumnDrift(column="c").score`,
`MeanValue(column=c)` is `ColumnSummary(column="c").current.mean`, `Accuracy()` is
`ClassificationQuality().current.accuracy`. Every other metric is kept as a metric of its own,
typed `Evidently<Type>`, with its numbers as values and what it said in `details`, so the
snapshot viewer lists it. Each test becomes one of our tests, pointing at the metric field it read.

Evidently's widgets (its plotly figures) are not kept: the snapshot viewer draws its own charts.

Pure functions over JSON values; nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from metrics import names
from metrics.computations import drift_methods

# Snapshot ids are derived from the Evidently document (which has none): the same document pushed
# twice is the same snapshot, stored once.
SNAPSHOT_NAMESPACE = uuid.UUID("5d0c3c52-3f0e-4a53-9a57-2f3d1d1e7c11")
TYPE_PREFIX = "Evidently"
"""Our metric type for an Evidently metric without an equivalent is this prefix and its type."""

_TEST_STATUSES = ("SUCCESS", "FAIL", "WARNING", "ERROR", "SKIPPED")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,90}$")
_MAX_VALUES = 200  # our schema's limit on the keys of one values object
_MAX_ID = 2000
# Parameters that only change Evidently's widgets or carry its test configuration: a metric
# computed with or without them is the same number.
_DISPLAY_PARAMS = {
    "conf_matrix",
    "pr_curve",
    "pr_table",
    "roc_curve",
    "error_plot",
    "error_distr",
    "error_normality",
    "perc_error_plot",
}
_DEFAULT_NAME = "default"  # Evidently's name of the only classification or regression


class EvidentlyRejected(Exception):
    """The body is not an Evidently snapshot we can read: `fields` names each offending path."""

    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


def _reject(path: str, message: str) -> EvidentlyRejected:
    return EvidentlyRejected(f"{path}: {message}", {path: [message]})


# ---- parsing ------------------------------------------------------------------------------------


def parse(raw: bytes | bytearray) -> dict[str, Any]:
    """The JSON body as Evidently's client sends it: Python's `json.dumps(allow_nan=True)`, so
    NaN and Infinity may appear; they are read as null (a value that does not exist)."""
    try:
        text = bytes(raw).decode("utf-8")
        document = json.loads(text, parse_constant=lambda _: None, parse_int=_int)
    except UnicodeDecodeError:
        raise _reject("body", "Not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise _reject("body", f"Not valid JSON: {exc}.") from None
    except _NumberTooLong as exc:
        raise _reject("body", f"The number {exc.text[:20]}... has too many digits.") from None
    except RecursionError:
        raise _reject("body", "The document is nested too deeply.") from None
    if not isinstance(document, dict):
        raise _reject("body", "An Evidently snapshot is a JSON object.")
    return document


class _NumberTooLong(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


_MAX_INT_DIGITS = 40  # far past any 64-bit integer, far below Python's 4,300-digit limit


def _int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise _NumberTooLong(text)
    return int(text)


# The integers orjson writes (and so ingestion stores): signed or unsigned 64 bits.
_INT_RANGE = (-(2**63), 2**64 - 1)


def _unstorable(value: Any) -> tuple[str, str] | None:
    """The path of the first integer out of the 64-bit range or string with a lone surrogate in
    `value`, and why it cannot be stored; None if there is none. Walked only when the document
    could not be written out (iterative: any depth the parser allowed)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not _INT_RANGE[0] <= item <= _INT_RANGE[1]:
                return path, "Integer out of range (at most 64 bits)."
        elif isinstance(item, str):
            if not item.isascii() and _has_surrogate(item):
                return path, "Text with a lone UTF-16 surrogate (not Unicode text)."
        elif isinstance(item, dict):
            for key, child in item.items():
                step = f"{path}.{key}" if path else str(key)
                if _has_surrogate(str(key)):
                    return path or "body", "A key with a lone UTF-16 surrogate (not Unicode text)."
                stack.append((step, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), c) for i, c in enumerate(item))
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def snapshot_id(dump: dict[str, Any]) -> uuid.UUID:
    """The stable id of an Evidently snapshot: from the SHA-256 of its canonical JSON text.

    Raises `EvidentlyRejected` for a document that cannot be written out, so not stored either:
    an integer past 64 bits, a lone surrogate, nesting past orjson's limit."""
    try:
        text = orjson.dumps(dump, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        found = _unstorable(dump)
        if found is not None:
            raise _reject(*found) from None
        raise _reject("body", "The document is nested too deeply.") from None
    return uuid.uuid5(SNAPSHOT_NAMESPACE, hashlib.sha256(text).hexdigest())


# ---- the results' numbers -----------------------------------------------------------------------

Component = tuple[str, ...]
"""Where a number sits in a result: () for a single value, ("count",), ("values", label), ..."""


def _number(value: Any, path: str) -> float | None:
    if isinstance(value, dict):
        value = value.get("value")
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    raise _reject(path, f"Expected a number or null, not {type(value).__name__}.")


def _components(result: dict[str, Any], path: str) -> Iterator[tuple[Component, float | None]]:
    """Every number of an Evidently metric result, by component."""
    kind = str(result.get("type", "")).rsplit(":", 1)[-1]
    if kind in ("SingleValue", "") and "value" in result:
        yield (), _number(result.get("value"), f"{path}.value")
    elif kind == "CountValue":
        for part in ("count", "share"):
            yield (part,), _number(result.get(part), f"{path}.{part}")
    elif kind == "MeanStdValue":
        for part in ("mean", "std"):
            yield (part,), _number(result.get(part), f"{path}.{part}")
    elif kind in ("ByLabelValue", "ByLabelCountValue"):
        parts = ("values",) if kind == "ByLabelValue" else ("counts", "shares")
        for part in parts:
            by_label = result.get(part) or {}
            if not isinstance(by_label, dict):
                raise _reject(f"{path}.{part}", "Expected an object of values by label.")
            for label, value in by_label.items():
                yield (part, str(label)), _number(value, f"{path}.{part}.{label}")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bound_component(test: dict[str, Any]) -> Component:
    """The component a test read, from its `bound_test`."""
    bound = _object(test.get("bound_test"))
    kind = str(bound.get("type", "")).rsplit(":", 1)[-1]
    if kind == "CountBoundTest":
        return ("count",) if bound.get("is_count", True) else ("share",)
    if kind == "MeanStdBoundTest":
        return ("mean",) if bound.get("is_mean", True) else ("std",)
    if kind == "ByLabelBoundTest":
        return ("values", str(bound.get("label")))
    if kind == "ByLabelCountBoundTest":
        return (f"{bound.get('slot', 'count')}s", str(bound.get("label")))
    return ()


# ---- the mapping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one component lands among our metrics."""

    type: str
    params: tuple[tuple[str, Any], ...]
    field: str


def _params(**params: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in params.items() if v is not None))


def _named(params: dict[str, Any], key: str) -> dict[str, Any]:
    """The classification's or regression's name as a parameter, when it is not the default."""
    name = params.get(key)
    return {} if name in (None, _DEFAULT_NAME) else {key: name}


_SUMMARY_FIELDS = {
    "RowCount": names.DatasetSummary.ROW_COUNT,
    "DuplicatedRowCount": "current.duplicated_rows",
    "DuplicatedColumnsCount": "current.duplicated_columns",
    "AlmostDuplicatedColumnsCount": "current.almost_duplicated_columns",
    "AlmostConstantColumnsCount": "current.almost_constant_columns",
    "EmptyRowsCount": "current.empty_rows",
    "EmptyColumnsCount": "current.empty_columns",
    "ConstantColumnsCount": "current.constant_columns",
}
_COLUMN_COUNT_FIELDS = {
    None: "current.column_count",
    "ColumnType.Numerical": "current.numerical_columns",
    "ColumnType.Categorical": "current.categorical_columns",
    "ColumnType.Text": "current.text_columns",
    "ColumnType.Datetime": "current.datetime_columns",
}
_COLUMN_FIELDS = {
    "MinValue": "current.min",
    "MaxValue": "current.max",
    "MeanValue": names.ColumnSummary.MEAN,
    "StdValue": "current.std",
    "MedianValue": "current.median",
}
_QUANTILE_FIELDS = {0.25: "current.p25", 0.5: "current.median", 0.75: "current.p75"}
_CLASSIFICATION_FIELDS = {
    "Accuracy": names.ClassificationQuality.ACCURACY,
    "Precision": names.ClassificationQuality.PRECISION,
    "Recall": names.ClassificationQuality.RECALL,
    "F1Score": names.ClassificationQuality.F1,
    "RocAuc": names.ClassificationQuality.ROC_AUC,
    "LogLoss": "current.log_loss",
    "TPR": "current.tpr",
    "TNR": "current.tnr",
    "FPR": "current.fpr",
    "FNR": "current.fnr",
}
_BY_LABEL_FIELDS = {
    "PrecisionByLabel": "current.precision",
    "RecallByLabel": "current.recall",
    "F1ByLabel": "current.f1",
    "RocAucByLabel": "current.roc_auc",
}
_REGRESSION_FIELDS: dict[str, dict[Component, str]] = {
    "MeanError": {("mean",): "current.mean_error", ("std",): "current.mean_error_std"},
    "MAE": {("mean",): names.RegressionQuality.MAE, ("std",): "current.mae_std"},
    "MAPE": {("mean",): names.RegressionQuality.MAPE, ("std",): "current.mape_std"},
    "RMSE": {(): names.RegressionQuality.RMSE},
    "R2Score": {(): "current.r2"},
    "AbsMaxError": {(): "current.max_abs_error"},
}


@dataclass(frozen=True)
class DriftMethod:
    """How Evidently reads one drift method's score (from its `stattests` modules)."""

    name: str  # Evidently's name
    kind: str  # "p_value" or "distance"
    rule: str  # when the column drifted, in our words
    drifted: Callable[[float, float], bool]


def _below(score: float, threshold: float) -> bool:
    return score < threshold


def _at_or_below(score: float, threshold: float) -> bool:
    return score <= threshold


def _above(score: float, threshold: float) -> bool:
    return score > threshold


def _at_or_above(score: float, threshold: float) -> bool:
    return score >= threshold


_BELOW = ("below", _below)
_AT_OR_BELOW = ("at or below", _at_or_below)
_ABOVE = ("above", _above)
_AT_OR_ABOVE = ("at or above", _at_or_above)
# Keyed by the `display_name` Evidently writes into the metric's `method` parameter.
DRIFT_METHODS = {
    display: DriftMethod(name, kind, rule[0], rule[1])
    for display, name, kind, rule in [
        ("K-S p_value", "ks", "p_value", _AT_OR_BELOW),
        ("chi-square p_value", "chisquare", "p_value", _BELOW),
        ("Z-test p_value", "z", "p_value", _BELOW),
        ("Wasserstein distance (normed)", "wasserstein", "distance", _AT_OR_ABOVE),
        ("Jensen-Shannon distance", "jensenshannon", "distance", _AT_OR_ABOVE),
        ("PSI", "psi", "distance", _AT_OR_ABOVE),
        ("Kullback-Leibler divergence", "kl_div", "distance", _AT_OR_ABOVE),
        ("Hellinger distance", "hellinger", "distance", _AT_OR_ABOVE),
        ("Energy-distance", "ed", "distance", _ABOVE),
        ("Anderson-Darling", "anderson", "p_value", _BELOW),
        ("Cramer-von Mises", "cramer_von_mises", "p_value", _AT_OR_BELOW),
        ("Epps-Singleton", "es", "p_value", _BELOW),
        ("Fisher's Exact test", "fisher_exact", "p_value", _BELOW),
        ("g_test", "g_test", "p_value", _BELOW),
        ("Mann-Whitney U-rank test", "mannw", "p_value", _BELOW),
        ("empirical_mmd", "empirical_mmd", "p_value", _BELOW),
        ("t_test", "t_test", "p_value", _BELOW),
        ("Total-Variation-Distance", "TVD", "p_value", _BELOW),
    ]
}


def _our_method(name: str) -> str:
    """Our name for Evidently's method where ours computes the same measure, else Evidently's."""
    if name in drift_methods.METHODS:
        return name
    return drift_methods.ALIASES.get(name, name)


def _key(value: Any) -> Any:
    """A parameter as a key to look up: a list or an object (unhashable) matches nothing."""
    return None if isinstance(value, (list, dict)) else value


def targets(kind: str, params: dict[str, Any], component: Component) -> Target | None:
    """Where one component of an Evidently metric lands among our metrics; None if nowhere."""
    column = params.get("column")
    if kind in _SUMMARY_FIELDS and component == ():
        return Target(names.DatasetSummary.TYPE, (), _SUMMARY_FIELDS[kind])
    if kind == "ColumnCount" and component == ():
        where = _COLUMN_COUNT_FIELDS.get(_key(params.get("column_type")))
        return Target(names.DatasetSummary.TYPE, (), where) if where else None
    if kind == "DatasetMissingValueCount" and component == ("count",):
        return Target(names.DatasetSummary.TYPE, (), "current.missing_cells")
    if column is None:
        return _model_target(kind, params, component)
    if not isinstance(column, str):
        return None
    summary = names.ColumnSummary.TYPE
    if kind in _COLUMN_FIELDS and component == ():
        return Target(summary, _params(column=column), _COLUMN_FIELDS[kind])
    if kind == "QuantileValue" and component == ():
        where = _QUANTILE_FIELDS.get(_key(params.get("quantile")))
        return Target(summary, _params(column=column), where) if where else None
    if kind == "MissingValueCount":
        missing: dict[Component, str] = {
            ("count",): "current.missing",
            ("share",): names.ColumnSummary.MISSING_SHARE,
        }
        found = missing.get(component)
        return Target(summary, _params(column=column), found) if found else None
    if kind == "ValueDrift" and component == ():
        return Target(names.ColumnDrift.TYPE, _params(column=column), names.ColumnDrift.SCORE)
    return None


def _model_target(kind: str, params: dict[str, Any], component: Component) -> Target | None:
    classification = _named(params, "classification_name")
    model_params = {k: params.get(k) for k in ("probas_threshold", "k")}
    if kind in _CLASSIFICATION_FIELDS and component == ():
        return Target(
            names.ClassificationQuality.TYPE,
            _params(**classification, **model_params),
            _CLASSIFICATION_FIELDS[kind],
        )
    if kind in _BY_LABEL_FIELDS and len(component) == 2:
        return Target(
            "ClassificationByLabel",
            _params(**classification, **model_params, label=component[1]),
            _BY_LABEL_FIELDS[kind],
        )
    regression = _REGRESSION_FIELDS.get(kind, {}).get(component)
    if regression is not None:
        return Target(
            names.RegressionQuality.TYPE, _params(**_named(params, "regression_name")), regression
        )
    if kind == "DriftedColumnsCount":
        drift: dict[Component, str] = {
            ("count",): names.DatasetDrift.DRIFTED_COLUMNS,
            ("share",): names.DatasetDrift.DRIFTED_SHARE,
        }
        where = drift.get(component)
        share = params.get("drift_share")
        return Target(names.DatasetDrift.TYPE, _params(drift_share=share), where) if where else None
    return None


# ---- building our document ----------------------------------------------------------------------


def metric_id(kind: str, params: dict[str, Any] | tuple[tuple[str, Any], ...]) -> str:
    """Our metric id: the type and its sorted parameters, as the metrics library writes it."""
    items = sorted(dict(params).items())
    args = ",".join(
        f"{k}={json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"
        for k, v in items
    )
    return f"{kind}({args})"


@dataclass
class _Metric:
    id: str
    type: str
    params: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def has(self, path: str) -> bool:
        node: Any = self.values
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def get(self, path: str) -> Any:
        node: Any = self.values
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def put(self, path: str, value: Any) -> None:
        node = self.values
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    def document(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "params": self.params,
            "status": "ok",
            "values": self.values,
        }
        if self.details:
            entry["details"] = self.details
        return entry


@dataclass
class _Translation:
    metrics: dict[str, _Metric] = field(default_factory=dict)
    # (Evidently fingerprint, component) -> (our metric id, field path)
    located: dict[tuple[str, Component], tuple[str, str]] = field(default_factory=dict)

    def metric(self, kind: str, params: dict[str, Any], metric_key: str | None = None) -> _Metric:
        key = metric_key or metric_id(kind, params)
        if key not in self.metrics:
            self.metrics[key] = _Metric(key, kind, params)
        return self.metrics[key]


def _evidently_type(params: dict[str, Any], path: str) -> str:
    kind = params.get("type")
    if not isinstance(kind, str) or not kind:
        raise _reject(f"{path}.type", "Every metric names its type.")
    name = kind.rsplit(":", 1)[-1]
    if not _TYPE_NAME.match(name):
        raise _reject(f"{path}.type", f"{name[:60]!r} is not a metric type name.")
    return name


def _kept_params(params: dict[str, Any]) -> dict[str, Any]:
    """Evidently's parameters that change the number: not its type, display flags nor tests."""
    return {
        k: v
        for k, v in params.items()
        if k != "type"
        and k not in _DISPLAY_PARAMS
        and not k.endswith("tests")
        and v is not None
        and not (k in ("classification_name", "regression_name") and v == _DEFAULT_NAME)
    }


def _config(result: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    location = result.get("metric_value_location")
    metric = location.get("metric") if isinstance(location, dict) else None
    params = metric.get("params") if isinstance(metric, dict) else None
    if not isinstance(params, dict):
        raise _reject(
            f"{path}.metric_value_location", "Expected {'metric': {'params': {'type': ...}}}."
        )
    return _evidently_type(params, f"{path}.metric_value_location.metric.params"), params


def _add_result(out: _Translation, fingerprint: str, result: Any, path: str) -> None:
    if not isinstance(result, dict):
        raise _reject(path, "Expected a metric result object.")
    kind, params = _config(result, path)
    leftover: list[tuple[Component, float | None]] = []
    numbers = list(_components(result, path))
    for component, value in numbers:
        target = targets(kind, params, component)
        if target is None:
            leftover.append((component, value))
            continue
        metric = out.metric(target.type, dict(target.params))
        if metric.has(target.field):  # a second Evidently metric saying the same: keep it apart
            leftover.append((component, value))
            continue
        metric.put(target.field, value)
        metric.details.setdefault("evidently_metrics", {})[target.field] = fingerprint
        out.located[(fingerprint, component)] = (metric.id, target.field)
        if target.type == names.ColumnDrift.TYPE:
            _drift_details(metric, params, value)
        elif target.type == names.DatasetDrift.TYPE:
            metric.put(names.DatasetDrift.PARAM_DRIFT_SHARE, params.get("drift_share"))
    if leftover or not numbers:
        _keep(out, fingerprint, kind, params, result, leftover)


def _drift_details(metric: _Metric, params: dict[str, Any], score: float | None) -> None:
    threshold = params.get("threshold")
    display = str(params.get("method") or "")
    method = DRIFT_METHODS.get(display)
    metric.put(names.ColumnDrift.THRESHOLD, threshold)
    drifted = None
    if method is not None and score is not None and isinstance(threshold, (int, float)):
        drifted = method.drifted(score, float(threshold))
    metric.put(names.ColumnDrift.DRIFTED, drifted)
    metric.details.update(
        {
            "method": _our_method(method.name) if method else display,
            "method_title": display,
            "kind": method.kind if method else "",
            "rule": method.rule if method else "",
        }
    )


def _keep(
    out: _Translation,
    fingerprint: str,
    kind: str,
    params: dict[str, Any],
    result: dict[str, Any],
    numbers: list[tuple[Component, float | None]],
) -> None:
    """An Evidently metric (or the part of one) without an equivalent, kept as a metric of its
    own: its numbers as values where their keys are identifiers, all of them in `details`."""
    kept = _kept_params(params)
    our_type = f"{TYPE_PREFIX}{kind}"
    key = metric_id(our_type, kept)
    if len(key) > _MAX_ID or key in out.metrics:
        key = metric_id(our_type, {"fingerprint": fingerprint})
    metric = out.metric(our_type, kept if len(json.dumps(kept)) < 10_000 else {}, key)
    metric.details.update(
        {
            "evidently_type": kind,
            "evidently_metric_id": fingerprint,
            "display_name": _display(result),
        }
    )
    by_label: dict[str, dict[str, float | None]] = {}
    for component, value in numbers:
        if not component:
            path = "value"
        elif len(component) == 1:
            path = component[0]
        else:
            by_label.setdefault(component[0], {})[component[1]] = value
            if not _IDENTIFIER.match(component[1]) or len(by_label[component[0]]) > _MAX_VALUES:
                continue
            path = ".".join(component)
        metric.put(path, value)
        out.located[(fingerprint, component)] = (metric.id, path)
    if by_label:
        metric.details["by_label"] = by_label
    if not numbers:
        rest = {k: v for k, v in result.items() if k not in ("widget", "tests")}
        text = json.dumps(rest, default=str)
        metric.details["result"] = rest if len(text) <= 100_000 else "(over 100 kB: not kept)"


def _display(result: dict[str, Any]) -> str:
    name = result.get("display_name")
    return name[:500] if isinstance(name, str) else ""


def _finish(out: _Translation) -> None:
    """Numbers ours derive from Evidently's: the missing-cell share over cells (Evidently's
    divides by rows), the dataset-drift flag, the column count of the drift."""
    summary = out.metrics.get(metric_id(names.DatasetSummary.TYPE, {}))
    if summary is not None:
        rows = summary.get(names.DatasetSummary.ROW_COUNT)
        columns = summary.get("current.column_count")
        missing = summary.get("current.missing_cells")
        if missing is not None and rows and columns:
            summary.put(names.DatasetSummary.MISSING_CELLS_SHARE, missing / (rows * columns))
    for metric in out.metrics.values():
        if metric.type != names.DatasetDrift.TYPE:
            continue
        share = metric.get(names.DatasetDrift.DRIFTED_SHARE)
        limit = metric.get(names.DatasetDrift.PARAM_DRIFT_SHARE)
        count = metric.get(names.DatasetDrift.DRIFTED_COLUMNS)
        if share is not None and isinstance(limit, (int, float)):
            metric.put("dataset_drift", share >= limit)
        if share and count is not None and math.isfinite(count / share):
            metric.put("columns", round(count / share))


def _timestamp(value: Any) -> str:
    if not isinstance(value, str):
        raise _reject("timestamp", "Expected a date and time (ISO 8601).")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _reject("timestamp", f"{value[:40]!r} is not a date and time (ISO 8601).") from None
    if moment.tzinfo is None:  # Evidently writes its local time without an offset: read as UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:  # year 1 ahead of UTC, year 9999 behind it
        raise _reject("timestamp", f"{value[:40]!r} is out of the range of dates.") from None


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _reject("metadata", "Expected an object.")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)):  # Evidently allows these; ours holds scalars
            item = json.dumps(item, sort_keys=True, ensure_ascii=False)
        out[str(key)] = item
    return out


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _reject("tags", "Expected a list of strings.")
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            raise _reject(f"tags.{index}", "Expected a string.")
    return list(value)


def _test(
    out: _Translation, fingerprint: str, test: Any, path: str, seen: set[str]
) -> dict[str, Any]:
    if not isinstance(test, dict):
        raise _reject(path, "Expected a test result object.")
    status = test.get("status")
    if status not in _TEST_STATUSES:
        raise _reject(f"{path}.status", f"Expected one of {', '.join(_TEST_STATUSES)}.")
    bound = _object(test.get("bound_test"))
    inner = _object(bound.get("test"))
    config = _object(test.get("test_config"))
    kind = str(inner.get("type") or config.get("type") or "").rsplit(":", 1)[-1]
    kind = kind if _TYPE_NAME.match(kind) else "EvidentlyTest"
    where = out.located.get((fingerprint, _bound_component(test)))
    metric, field_path = where if where else (None, None)
    test_key = f"{kind}(metric={metric or fingerprint},field={field_path},test={test.get('id')})"
    unique, n = test_key, 1
    while unique in seen:
        n += 1
        unique = f"{test_key}#{n}"
    seen.add(unique)
    critical = inner.get("is_critical", config.get("is_critical", True))
    entry: dict[str, Any] = {
        "id": unique[:_MAX_ID],
        "type": kind,
        "name": str(test.get("name") or kind)[:500],
        "status": status,
        "critical": bool(critical),
        "description": str(test.get("description") or "")[:2000],
        "params": {"evidently_test": config or inner},
    }
    if metric is not None and field_path is not None:
        # Our tests name the field under "current"; drift tests read top-level fields.
        entry["metric_id"] = metric
        entry["field"] = field_path.removeprefix("current.")
        entry["value"] = out.metrics[metric].get(field_path)
    return entry


def translate(dump: dict[str, Any]) -> dict[str, Any]:
    """Our snapshot document (schema version 1) for an Evidently snapshot's `dump_dict()`.

    Raises `EvidentlyRejected` naming the field for what cannot be read; what our schema
    refuses (a tag too long, too many metadata keys) is left to ingestion, which names it too.
    """
    ident = snapshot_id(dump)  # first: it refuses what cannot be stored (integers past 64 bits)
    results = dump.get("metric_results")
    if not isinstance(results, dict):
        raise _reject("metric_results", "Expected an object of metric results by metric id.")
    name = dump.get("name")
    if name is not None and not isinstance(name, str):
        raise _reject("name", "Expected a string or null.")
    out = _Translation()
    for fingerprint, result in results.items():
        _add_result(out, str(fingerprint), result, f"metric_results.{fingerprint}")
    _finish(out)
    tests: list[dict[str, Any]] = []
    seen: set[str] = set()
    for fingerprint, result in results.items():
        listed = result.get("tests") or []
        if not isinstance(listed, list):
            raise _reject(f"metric_results.{fingerprint}.tests", "Expected a list of tests.")
        for index, test in enumerate(listed):
            path = f"metric_results.{fingerprint}.tests.{index}"
            tests.append(_test(out, str(fingerprint), test, path, seen))
    counts = dict.fromkeys(_TEST_STATUSES, 0)
    for test in tests:
        counts[test["status"]] += 1
    document: dict[str, Any] = {
        "schema_version": 1,
        "id": str(ident),
        "timestamp": _timestamp(dump.get("timestamp")),
        "name": name,
        "tags": _tags(dump.get("tags")),
        "metadata": _metadata(dump.get("metadata")),
        "metrics": [m.document() for m in out.metrics.values()],
        "tests": tests,
        "test_counts": counts,
        "library": {"name": "evidently"},
    }
    summary = out.metrics.get(metric_id(names.DatasetSummary.TYPE, {}))
    if summary is not None:
        rows = summary.get(names.DatasetSummary.ROW_COUNT)
        columns = summary.get("current.column_count")
        if rows is not None and columns is not None:
            document["data"] = {"current": {"rows": int(rows), "columns": int(columns)}}
    return document
