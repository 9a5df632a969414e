"""The series a user picks from (an alert rule's metric, a panel's lines), grouped by metric and
with the useful fields first.

A project with a few presets has hundreds of series (one per metric and field, each statistic for
`current.` and `reference.`). The pickers group them by metric (its type and parameters, as the
snapshot viewer titles them) and order each group's fields: the fields `metrics.names` names (the
ones the pre-built tabs draw) first, in that module's order, then the current data's other fields
and the metric's own, and the reference's last. The groups follow `metrics.names`' metrics first,
then the rest by title.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from metrics import names

from .snapshot_report import metric_title, params_label


def _named_fields() -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for kind in names.NAMED:
        named[kind.TYPE] = [
            value
            for attr, value in vars(kind).items()
            if attr.isupper() and attr != "TYPE" and not attr.startswith("PARAM_")
        ]
    return named


NAMED_FIELDS = _named_fields()
"""Per metric type, the fields `metrics.names` names, most useful first."""
NAMED_TYPES = [kind.TYPE for kind in names.NAMED]


def field_rank(metric_type: str, field_name: str) -> tuple[int, int, str]:
    """Sort key of a field within its metric: named fields first, the reference's last."""
    named = NAMED_FIELDS.get(metric_type, [])
    if field_name in named:
        return (0, named.index(field_name), field_name)
    if field_name.startswith("reference."):
        return (2, 0, field_name)
    return (1, 0, field_name)


def group_label(metric_type: str, params: Mapping[str, Any], metric_id: str = "") -> str:
    """The metric's title, then its parameters (from the id when they were not stored apart):
    "Column drift · column=age, method=ks"."""
    title = metric_title(metric_type)
    detail = params_label(params) if isinstance(params, Mapping) else ""
    if not detail and metric_id.startswith(f"{metric_type}(") and metric_id.endswith(")"):
        detail = metric_id[len(metric_type) + 1 : -1]
    return f"{title} · {detail}" if detail else title


@dataclass
class MetricGroup:
    metric: str
    type: str
    params: Mapping[str, Any]
    label: str
    fields: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "type": self.type,
            "params": self.params,
            "label": self.label,
            "fields": self.fields,
        }


def _group_key(group: MetricGroup) -> tuple[int, str, str]:
    rank = NAMED_TYPES.index(group.type) if group.type in NAMED_TYPES else len(NAMED_TYPES)
    return (rank, group.label.casefold(), group.metric)


def grouped(rows: Iterable[tuple[Any, str, str, Mapping[str, Any], str]]) -> list[MetricGroup]:
    """Rows of (key, metric id, metric type, params, field) as metric groups in picking order;
    each group's `keys` follow its `fields`."""
    groups: dict[str, MetricGroup] = {}
    pairs: dict[str, list[tuple[str, str]]] = {}
    for key, metric_id, metric_type, params, field_name in rows:
        if metric_id not in groups:
            groups[metric_id] = MetricGroup(
                metric_id, metric_type, params, group_label(metric_type, params, metric_id)
            )
            pairs[metric_id] = []
        pairs[metric_id].append((field_name, str(key)))
    for metric_id, group in groups.items():
        ordered = sorted(pairs[metric_id], key=lambda pair: field_rank(group.type, pair[0]))
        group.fields = [name for name, _ in ordered]
        group.keys = [key for _, key in ordered]
    return sorted(groups.values(), key=_group_key)


def form_choices(groups: Iterable[MetricGroup]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Django's grouped choices: one optgroup per metric, an option per field."""
    return [(group.label, list(zip(group.keys, group.fields, strict=True))) for group in groups]
