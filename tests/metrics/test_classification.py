"""Classification quality against scikit-learn on random data: binary and multiclass, labels
and/or probabilities, class imbalance, a class missing from current, and the edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.dummy import DummyClassifier

from metrics import DataDefinition, Report
from metrics.computations.classification import (
    ClassBalance,
    ClassificationByLabel,
    ClassificationQuality,
    ConfusionMatrix,
    LiftTable,
    PrecisionRecallCurve,
    RocCurve,
)

TOL = 1e-9


def run(metric, frame, definition, reference=None):
    return Report([metric], definition=definition).run(frame, reference).metric(metric)


def binary_frame(n=3000, positive_share=0.1, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_share).astype(int)
    proba = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    predicted = (proba >= 0.5).astype(int)
    predicted[rng.choice(n, n // 20, replace=False)] ^= (
        1  # labels that disagree with the probabilities
    )
    return pd.DataFrame({"y": y, "p": proba, "pred": predicted, "x": rng.normal(size=n)})


def sk_binary(y, pred, proba=None):
    tn, fp, fn, tp = sk.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    values = {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred, zero_division=0),
        "recall": sk.recall_score(y, pred, zero_division=0),
        "f1": sk.f1_score(y, pred, zero_division=0),
        "tpr": tp / (tp + fn),
        "tnr": tn / (tn + fp),
        "fpr": fp / (fp + tn),
        "fnr": fn / (fn + tp),
    }
    if proba is not None:
        values["roc_auc"] = sk.roc_auc_score(y, proba)
        values["log_loss"] = sk.log_loss(y, proba)
    return values


def assert_values(ours, expected):
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, rel=TOL, abs=1e-12), key


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_with_labels_and_probabilities(seed):
    frame = binary_frame(seed=seed)
    result = run(
        ClassificationQuality(),
        frame,
        DataDefinition(target="y", prediction="pred", prediction_probas="p"),
    )
    assert_values(result.values["current"], sk_binary(frame["y"], frame["pred"], frame["p"]))
    assert result.values["current"]["rows"] == len(frame)
    assert result.details["task"] == "binary"
    assert result.details["positive_label"] == "1"


def test_binary_from_probabilities_with_a_threshold():
    frame = binary_frame()
    definition = DataDefinition(target="y", prediction_probas="p")
    default = run(ClassificationQuality(), frame, definition)
    assert_values(
        default.values["current"],
        sk_binary(frame["y"], (frame["p"] >= 0.5).astype(int), frame["p"]),
    )
    low = run(ClassificationQuality(threshold=0.3), frame, definition)
    assert_values(
        low.values["current"], sk_binary(frame["y"], (frame["p"] >= 0.3).astype(int), frame["p"])
    )


def test_binary_top_k_predicts_the_k_most_probable_rows_positive():
    frame = binary_frame()
    result = run(
        ClassificationQuality(k=100), frame, DataDefinition(target="y", prediction_probas="p")
    )
    order = np.lexsort((np.arange(len(frame)), -frame["p"].to_numpy()))
    predicted = np.zeros(len(frame), dtype=int)
    predicted[order[:100]] = 1
    assert_values(result.values["current"], sk_binary(frame["y"], predicted, frame["p"]))


def test_binary_labels_only_have_no_probability_metrics():
    frame = binary_frame()
    result = run(ClassificationQuality(), frame, DataDefinition(target="y", prediction="pred"))
    assert "roc_auc" not in result.values["current"]
    assert_values(result.values["current"], sk_binary(frame["y"], frame["pred"]))


def test_string_labels_need_a_positive_label():
    frame = binary_frame()
    frame["y"] = np.where(frame["y"] == 1, "churn", "stay")
    frame["pred"] = np.where(frame["pred"] == 1, "churn", "stay")
    definition = DataDefinition(target="y", prediction="pred")
    unknown = run(ClassificationQuality(), frame, definition)
    assert unknown.status == "error"
    assert "pos_label" in unknown.reason
    result = run(ClassificationQuality(pos_label="churn"), frame, definition)
    assert result.values["current"]["recall"] == pytest.approx(
        sk.recall_score(frame["y"], frame["pred"], pos_label="churn"), rel=TOL
    )


def test_the_dummy_baseline_matches_scikit_learns_prior_classifier():
    frame = binary_frame(positive_share=0.3)
    result = run(
        ClassificationQuality(),
        frame,
        DataDefinition(target="y", prediction="pred", prediction_probas="p"),
    )
    dummy = DummyClassifier(strategy="prior").fit(frame[["x"]], frame["y"])
    predicted = dummy.predict(frame[["x"]])
    probabilities = dummy.predict_proba(frame[["x"]])[:, 1]
    expected = sk_binary(frame["y"], predicted)
    expected["log_loss"] = sk.log_loss(frame["y"], probabilities)
    expected["roc_auc"] = 0.5
    assert_values(result.values["current"]["dummy"], expected)


def multiclass_frame(n=4000, seed=0, classes=("cat", "dog", "bird"), drop=None):
    rng = np.random.default_rng(seed)
    classes = np.array(classes)
    probabilities = rng.dirichlet(np.ones(len(classes)), n)
    truth = classes[
        np.array([rng.choice(len(classes), p=0.5 * p + 0.5 / len(classes)) for p in probabilities])
    ]
    if drop is not None:
        truth = np.where(truth == drop, classes[0], truth)
    frame = pd.DataFrame(probabilities, columns=list(classes))
    frame["y"] = truth
    frame["pred"] = classes[probabilities.argmax(axis=1)]
    return frame, list(classes)


def test_multiclass_matches_scikit_learn():
    frame, classes = multiclass_frame()
    definition = DataDefinition(target="y", prediction="pred", prediction_probas=classes)
    result = run(ClassificationQuality(k=2), frame, definition)
    values = result.values["current"]
    y, pred = frame["y"], frame["pred"]
    ordered = sorted(classes)  # scikit-learn wants labels sorted, probabilities in that order
    probabilities = frame[ordered].to_numpy()
    expected = {
        "accuracy": sk.accuracy_score(y, pred),
        "precision": sk.precision_score(y, pred, average="macro"),
        "recall": sk.recall_score(y, pred, average="macro"),
        "f1": sk.f1_score(y, pred, average="macro"),
        "precision_weighted": sk.precision_score(y, pred, average="weighted"),
        "recall_weighted": sk.recall_score(y, pred, average="weighted"),
        "f1_weighted": sk.f1_score(y, pred, average="weighted"),
        "f1_micro": sk.f1_score(y, pred, average="micro"),
        "roc_auc": sk.roc_auc_score(
            y, probabilities, multi_class="ovr", average="macro", labels=ordered
        ),
        "log_loss": sk.log_loss(y, probabilities, labels=ordered),
        "top_k_accuracy": sk.top_k_accuracy_score(y, probabilities, k=2, labels=ordered),
    }
    assert_values(values, expected)
    assert result.details["task"] == "multiclass"


def test_per_label_values_match_scikit_learn():
    frame, classes = multiclass_frame()
    definition = DataDefinition(target="y", prediction="pred", prediction_probas=classes)
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        frame["y"], frame["pred"], labels=classes
    )
    for i, label in enumerate(classes):
        values = run(ClassificationByLabel(label=label), frame, definition).values["current"]
        assert values["precision"] == pytest.approx(precision[i], rel=TOL)
        assert values["recall"] == pytest.approx(recall[i], rel=TOL)
        assert values["f1"] == pytest.approx(f1[i], rel=TOL)
        assert values["support"] == support[i]
        assert values["roc_auc"] == pytest.approx(
            sk.roc_auc_score(frame["y"] == label, frame[label]), rel=TOL
        )


def test_a_class_missing_from_current():
    frame, classes = multiclass_frame(drop="bird")
    definition = DataDefinition(target="y", prediction="pred", prediction_probas=classes)
    values = run(ClassificationQuality(), frame, definition).values["current"]
    y, pred = frame["y"], frame["pred"]
    # Averages over the labels present in the truth or the predictions, as scikit-learn does.
    assert values["f1"] == pytest.approx(sk.f1_score(y, pred, average="macro"), rel=TOL)
    assert values["precision"] == pytest.approx(
        sk.precision_score(y, pred, average="macro", zero_division=0), rel=TOL
    )
    # ROC AUC over the classes present in the truth.
    present = ["cat", "dog"]
    expected_auc = np.mean([sk.roc_auc_score(y == c, frame[c]) for c in present])
    assert values["roc_auc"] == pytest.approx(expected_auc, rel=TOL)
    bird = run(ClassificationByLabel(label="bird"), frame, definition).values["current"]
    assert bird["support"] == 0
    assert bird["recall"] == 0


def test_imbalanced_labels_and_class_balance():
    frame = binary_frame(positive_share=0.02)
    definition = DataDefinition(target="y", prediction="pred", prediction_probas="p")
    assert_values(
        run(ClassificationQuality(), frame, definition).values["current"],
        sk_binary(frame["y"], frame["pred"], frame["p"]),
    )
    balance = run(ClassBalance(), frame, definition).values["current"]
    counts = frame["y"].value_counts()
    assert balance["imbalance_ratio"] == pytest.approx(counts.max() / counts.min(), rel=TOL)


def test_confusion_matrix_matches_scikit_learn():
    frame, _classes = multiclass_frame()
    result = run(ConfusionMatrix(), frame, DataDefinition(target="y", prediction="pred"))
    labels = result.details["current"]["labels"]
    assert (
        result.details["current"]["matrix"]
        == sk.confusion_matrix(frame["y"], frame["pred"], labels=labels).tolist()
    )


def test_curves_match_scikit_learn():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 60)
    proba = np.round(rng.random(60), 2)  # ties included
    frame = pd.DataFrame({"y": y, "p": proba})
    definition = DataDefinition(target="y", prediction_probas="p")
    roc = run(RocCurve(points=1000), frame, definition)
    fpr, tpr, _ = sk.roc_curve(y, proba, drop_intermediate=False)
    np.testing.assert_allclose(roc.details["current"]["fpr"], fpr, atol=1e-12)
    np.testing.assert_allclose(roc.details["current"]["tpr"], tpr, atol=1e-12)
    pr = run(PrecisionRecallCurve(points=1000), frame, definition)
    assert pr.values["current"]["average_precision"] == pytest.approx(
        sk.average_precision_score(y, proba), rel=TOL
    )


def test_curves_are_bounded():
    frame = binary_frame(n=20000)
    result = run(RocCurve(points=50), frame, DataDefinition(target="y", prediction_probas="p"))
    assert len(result.details["current"]["fpr"]) <= 50
    assert result.details["current"]["fpr"][0] == 0
    assert result.details["current"]["tpr"][-1] == 1


def test_lift_table():
    frame = binary_frame(n=1000, positive_share=0.2)
    result = run(LiftTable(bins=10), frame, DataDefinition(target="y", prediction_probas="p"))
    order = np.argsort(-frame["p"].to_numpy(), kind="stable")
    hits = frame["y"].to_numpy()[order]
    first = hits[:100].mean() / hits.mean()
    table = result.details["current"]
    assert table[0]["lift"] == pytest.approx(first, rel=TOL)
    assert table[-1]["cumulative_gain"] == pytest.approx(1.0)
    assert sum(row["rows"] for row in table) == 1000


# ---- edge cases: a clear error or an explained skip, never a crash --------------------------------


def test_a_single_class_gives_an_undefined_auc_not_a_crash():
    frame = pd.DataFrame({"y": [1] * 50, "p": np.linspace(0.1, 0.9, 50)})
    result = run(ClassificationQuality(), frame, DataDefinition(target="y", prediction_probas="p"))
    assert result.status == "ok"
    assert np.isnan(result.values["current"]["roc_auc"])
    assert result.to_dict()["values"]["current"]["roc_auc"] is None


def test_all_predictions_equal():
    frame = binary_frame()
    frame["pred"] = 0
    values = run(
        ClassificationQuality(), frame, DataDefinition(target="y", prediction="pred")
    ).values["current"]
    assert values["precision"] == 0
    assert values["recall"] == 0
    assert values["accuracy"] == pytest.approx((frame["y"] == 0).mean())


def test_probabilities_that_do_not_sum_to_one_are_an_explained_error():
    frame, classes = multiclass_frame(n=100)
    frame.loc[3, "cat"] += 0.3
    result = run(
        ClassificationQuality(), frame, DataDefinition(target="y", prediction_probas=classes)
    )
    assert result.status == "error"
    assert "must sum to 1" in result.reason
    assert "row 3 sums to 1.3" in result.reason


def test_nan_targets_are_left_out():
    frame = binary_frame()
    frame["y"] = frame["y"].astype(float)
    frame.loc[frame.index[::7], "y"] = np.nan
    result = run(
        ClassificationQuality(),
        frame,
        DataDefinition(target="y", prediction="pred", prediction_probas="p"),
    )
    labelled = frame.dropna(subset=["y"])
    assert result.values["current"]["rows"] == len(labelled)
    assert_values(
        result.values["current"],
        sk_binary(labelled["y"].astype(int), labelled["pred"], labelled["p"]),
    )


def test_no_labels_yet_is_a_skip_that_says_so():
    frame = binary_frame()
    frame["y"] = np.nan
    result = run(ClassificationQuality(), frame, DataDefinition(target="y", prediction="pred"))
    assert result.status == "skipped"
    assert "No labels yet" in result.reason
    no_target = run(
        ClassificationQuality(), frame.drop(columns="y"), DataDefinition(prediction="pred")
    )
    assert no_target.status == "skipped"
    assert "no `target`" in no_target.reason


def test_predictions_are_required():
    frame = binary_frame()
    result = run(ClassificationQuality(), frame, DataDefinition(target="y"))
    assert result.status == "error"
    assert "prediction" in result.reason


@pytest.mark.parametrize("decimals", [1, 2])
def test_tied_scores_match_scikit_learn(decimals):
    """Scores rounded into few distinct values: every AUC and curve counts ties as scikit-learn."""
    frame = binary_frame(n=5000, seed=7)
    frame["p"] = frame["p"].round(decimals)
    definition = DataDefinition(target="y", prediction="pred", prediction_probas="p")
    y, proba = frame["y"], frame["p"]
    quality = run(ClassificationQuality(), frame, definition).values["current"]
    assert quality["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba), rel=TOL)
    roc = run(RocCurve(points=1000), frame, definition)
    fpr, tpr, _ = sk.roc_curve(y, proba, drop_intermediate=False)
    assert roc.details["current"]["fpr"] == pytest.approx(fpr.tolist(), abs=1e-12)
    assert roc.details["current"]["tpr"] == pytest.approx(tpr.tolist(), abs=1e-12)
    assert roc.values["current"]["roc_auc"] == pytest.approx(sk.auc(fpr, tpr), rel=1e-9)
    pr = run(PrecisionRecallCurve(), frame, definition)
    assert pr.values["current"]["average_precision"] == pytest.approx(
        sk.average_precision_score(y, proba), rel=TOL
    )


def test_tied_multiclass_scores_match_scikit_learn():
    frame, classes = multiclass_frame()
    frame[classes] = frame[classes].round(1)
    frame[classes] = frame[classes].div(frame[classes].sum(axis=1), axis=0)
    definition = DataDefinition(target="y", prediction="pred", prediction_probas=classes)
    values = run(ClassificationQuality(), frame, definition).values["current"]
    ordered = sorted(classes)
    expected = sk.roc_auc_score(
        frame["y"], frame[ordered].to_numpy(), multi_class="ovr", average="macro", labels=ordered
    )
    assert values["roc_auc"] == pytest.approx(expected, rel=TOL)


def test_the_preset_sorts_each_score_column_once_per_side(monkeypatch):
    """The AUCs, the ROC and precision-recall curves and the lift table share one sort."""
    from metrics.presets import ClassificationPreset

    frame = binary_frame(n=2000)
    definition = DataDefinition(target="y", prediction="pred", prediction_probas="p")
    sorted_lengths: list[int] = []
    real_argsort = np.argsort

    def counting_argsort(a, *args, **kwargs):
        if np.ndim(a) == 1 and len(a) == len(frame):
            sorted_lengths.append(len(a))
        return real_argsort(a, *args, **kwargs)

    monkeypatch.setattr(np, "argsort", counting_argsort)
    Report([ClassificationPreset()], definition=definition).run(frame, frame.copy())
    assert len(sorted_lengths) == 2  # one score column, two sides
