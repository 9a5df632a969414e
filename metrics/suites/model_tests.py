"""Tests of model quality: classification, regression and ranking.

Without a condition, one is derived: within ±20% of the reference's value for classification and
ranking, ±10% for regression; without a reference, no worse than the dummy baseline of the same run
(the majority class, or a constant prediction). The mean error's default is different: about zero,
within a tenth of the errors' standard deviation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from metrics.computations.classification import ClassificationByLabel, ClassificationQuality
from metrics.computations.ranking import RankingQuality
from metrics.computations.regression import RegressionQuality
from metrics.core.base import Metric, MetricResult
from metrics.suites.base import Test
from metrics.suites.conditions import Condition, approx, is_usable


class ModelQualityTest(Test):
    """A model-quality value, derived condition: ±`tolerance` of the reference, else better than
    the dummy baseline in the direction `better`."""

    group = "model_quality"
    tolerance: ClassVar[float] = 0.2
    better: ClassVar[str] = "higher"

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        reference = self._lookup(result, "reference")
        if is_usable(reference):
            return Condition(eq=approx(reference, relative=self.tolerance)), reference, "reference"
        dummy = self._lookup(result, "current.dummy")
        if is_usable(dummy):
            # No worse than the baseline (not strictly better: when the majority class is the
            # positive one, the dummy's recall is already 1).
            condition = Condition(gte=dummy) if self.better == "higher" else Condition(lte=dummy)
            return condition, None, "dummy"
        return None, None, "default"

    def _lookup(self, result: MetricResult, prefix: str) -> Any:
        try:
            return result.get(f"{prefix}.{self.field}")
        except KeyError:
            return None


# ---- classification -----------------------------------------------------------------------------


class ClassificationTest(ModelQualityTest):
    def __init__(
        self,
        *,
        pos_label: str | int | bool | None = None,
        threshold: float | None = None,
        k: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pos_label=pos_label, threshold=threshold, k=k, **kwargs)

    def metric(self) -> Metric:
        return ClassificationQuality(
            pos_label=self.params.get("pos_label"),
            threshold=self.params.get("threshold"),
            k=self.params.get("k"),
        )


class TestAccuracy(ClassificationTest):
    title = "Accuracy"
    field = "accuracy"


class TestPrecision(ClassificationTest):
    title = "Precision"
    field = "precision"


class TestRecall(ClassificationTest):
    title = "Recall"
    field = "recall"


class TestF1(ClassificationTest):
    title = "F1 score"
    field = "f1"


class TestRocAuc(ClassificationTest):
    title = "ROC AUC"
    field = "roc_auc"


class TestLogLoss(ClassificationTest):
    title = "Log loss"
    field = "log_loss"
    better = "lower"


class TestTPR(ClassificationTest):
    title = "True positive rate"
    field = "tpr"


class TestTNR(ClassificationTest):
    title = "True negative rate"
    field = "tnr"


class TestFPR(ClassificationTest):
    title = "False positive rate"
    field = "fpr"
    better = "lower"


class TestFNR(ClassificationTest):
    title = "False negative rate"
    field = "fnr"
    better = "lower"


class TestTopKAccuracy(ClassificationTest):
    title = "Top-{k} accuracy"
    field = "top_k_accuracy"

    def __init__(self, *, k: int, **kwargs: Any) -> None:
        super().__init__(k=k, **kwargs)


class ByLabelTest(ModelQualityTest):
    """A per-label value; without a reference there is no baseline, so give a condition."""

    def __init__(self, *, label: str | int | bool | float, **kwargs: Any) -> None:
        super().__init__(label=label, **kwargs)

    def metric(self) -> Metric:
        return ClassificationByLabel(label=self.params["label"])


class TestPrecisionByLabel(ByLabelTest):
    title = "Precision of label {label}"
    field = "precision"


class TestRecallByLabel(ByLabelTest):
    title = "Recall of label {label}"
    field = "recall"


class TestF1ByLabel(ByLabelTest):
    title = "F1 score of label {label}"
    field = "f1"


class TestRocAucByLabel(ByLabelTest):
    title = "ROC AUC of label {label}"
    field = "roc_auc"


# ---- regression ---------------------------------------------------------------------------------


class RegressionTest(ModelQualityTest):
    tolerance = 0.1
    better = "lower"

    def metric(self) -> Metric:
        return RegressionQuality()


class TestMeanError(RegressionTest):
    """The mean error is about zero: within ±0.1 of the errors' standard deviation (no bias)."""

    title = "Mean error"
    field = "mean_error"

    def derive_condition(self, result: MetricResult) -> tuple[Condition | None, Any, str]:
        spread = result.get("current.mean_error_std")
        if not is_usable(spread):
            return None, None, "default"
        return Condition(eq=approx(0, absolute=0.1 * spread)), None, "default"


class TestMAE(RegressionTest):
    title = "Mean absolute error"
    field = "mae"


class TestRMSE(RegressionTest):
    title = "Root mean squared error"
    field = "rmse"


class TestMAPE(RegressionTest):
    """MAPE, with RegressionQuality's `zero_handling` for zero targets ("skip", "eps", "error")."""

    title = "Mean absolute percentage error"
    field = "mape"

    def __init__(self, *, zero_handling: str = "skip", **kwargs: Any) -> None:
        RegressionQuality(zero_handling=zero_handling)  # a wrong choice fails here, not in the run
        super().__init__(zero_handling=None if zero_handling == "skip" else zero_handling, **kwargs)

    def metric(self) -> Metric:
        return RegressionQuality(zero_handling=self.params.get("zero_handling", "skip"))


class TestR2(RegressionTest):
    title = "R²"
    field = "r2"
    better = "higher"


class TestMaxAbsError(RegressionTest):
    title = "Maximum absolute error"
    field = "max_abs_error"


# ---- ranking ------------------------------------------------------------------------------------


class RankingTest(ModelQualityTest):
    """A ranking value @k (see metrics.ranking.RankingQuality); no dummy baseline, so without a
    reference give a condition."""

    def __init__(self, *, k: int, prediction_type: str = "score", **kwargs: Any) -> None:
        super().__init__(k=k, prediction_type=prediction_type, **kwargs)

    def metric(self) -> Metric:
        return RankingQuality(k=self.params["k"], prediction_type=self.params["prediction_type"])


class TestPrecisionAtK(RankingTest):
    title = "Precision@{k}"
    field = "precision"


class TestRecallAtK(RankingTest):
    title = "Recall@{k}"
    field = "recall"


class TestFBetaAtK(RankingTest):
    title = "F-beta@{k}"
    field = "f_beta"


class TestMAPAtK(RankingTest):
    title = "MAP@{k}"
    field = "map"


class TestMARAtK(RankingTest):
    title = "MAR@{k}"
    field = "mar"


class TestNDCGAtK(RankingTest):
    title = "NDCG@{k}"
    field = "ndcg"


class TestMRRAtK(RankingTest):
    title = "MRR@{k}"
    field = "mrr"


class TestHitRateAtK(RankingTest):
    title = "Hit rate@{k}"
    field = "hit_rate"
