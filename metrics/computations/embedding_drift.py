"""Drift of embeddings (a list of numeric columns read together as vectors)."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from metrics.computations.drift_methods import METHODS

DEFAULT_DISTANCE_THRESHOLD = 0.2
DEFAULT_SHARE_THRESHOLD = 0.2


class EmbeddingDrift(NamedTuple):
    value: float
    drifted: bool
    threshold: float


def centroid_distance(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    metric: Literal["euclidean", "cosine"] = "euclidean",
    threshold: float = DEFAULT_DISTANCE_THRESHOLD,
) -> EmbeddingDrift:
    """Distance between the mean vectors of two (n, d) arrays (rows with a NaN dropped first).
    euclidean: ||mean_r - mean_c||; cosine: 1 - cos(mean_r, mean_c). Drift when >= threshold."""
    reference, current = _matrices(reference, current)
    reference = reference[~np.isnan(reference).any(axis=1)]
    current = current[~np.isnan(current).any(axis=1)]
    if not reference.size or not current.size:  # no complete row on one side: cannot decide
        return EmbeddingDrift(float("nan"), False, threshold)
    mean_reference, mean_current = reference.mean(axis=0), current.mean(axis=0)
    if metric == "euclidean":
        value = float(np.linalg.norm(mean_reference - mean_current))
    elif metric == "cosine":
        norms = np.linalg.norm(mean_reference) * np.linalg.norm(mean_current)
        # A zero mean vector has no direction: cannot decide. The clip drops rounding outside
        # [0, 2] (-1e-16 for parallel means).
        cosine = mean_reference @ mean_current / norms if norms else np.nan
        value = float(np.clip(1 - cosine, 0.0, 2.0))
    else:
        raise ValueError(f"unknown metric {metric!r}")
    return EmbeddingDrift(value, bool(value >= threshold), threshold)


def drifted_components_share(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    method: str = "wasserstein",
    method_threshold: float | None = None,
    threshold: float = DEFAULT_SHARE_THRESHOLD,
) -> EmbeddingDrift:
    """Share of the d components whose own drift (a `metrics.drift_methods` samples method,
    default normed Wasserstein at its default threshold) is detected. Drift when share >= threshold."""
    drift_method = METHODS[method]
    if drift_method.input != "samples":
        raise ValueError(f"{method!r} compares counts, not samples")
    if method_threshold is None:
        method_threshold = drift_method.default_threshold
    reference, current = _matrices(reference, current)
    drifted = 0
    for j in range(reference.shape[1]):
        reference_values = np.sort(reference[np.isfinite(reference[:, j]), j])
        current_values = np.sort(current[np.isfinite(current[:, j]), j])
        # A component without values on one side cannot show drift, but still counts in the share.
        if reference_values.size and current_values.size:
            value = drift_method.func(reference_values, current_values).value
            drifted += drift_method.drifted(value, method_threshold)
    share = drifted / reference.shape[1]
    return EmbeddingDrift(share, share >= threshold, threshold)


def _matrices(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    if reference.ndim != 2 or current.ndim != 2 or reference.shape[1] != current.shape[1]:
        raise ValueError(
            f"need two (n, d) arrays with the same d, got {reference.shape} and {current.shape}"
        )
    if reference.shape[1] == 0:
        raise ValueError("embeddings need at least one component")
    return reference, current
