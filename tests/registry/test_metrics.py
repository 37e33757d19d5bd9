"""Pairwise and B-cubed scores: hand-computed cases, then properties against a brute-force reference."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations
from random import Random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govlink.registry.metrics import NULL_GROUP, Scores, cluster_codes, score, score_tables

# truth {0,1,2} {3,4} {5,6}; predicted {0,1} {2,3,4} {5} {6}
TRUTH = ["a", "a", "a", "b", "b", "c", "c"]
PREDICTED = [1, 1, 2, 2, 2, 3, 4]

labels = st.lists(st.integers(0, 5), min_size=0, max_size=40)


def clusterings(min_size: int = 0) -> st.SearchStrategy[tuple[list[int], list[int]]]:
    return st.integers(min_size, 40).flatmap(
        lambda n: st.tuples(st.lists(st.integers(0, 6), min_size=n, max_size=n),
                            st.lists(st.integers(0, 6), min_size=n, max_size=n)))


def brute_force(truth: list[int], predicted: list[int]) -> dict[str, float]:
    """The definitions, literally: every pair, every mention."""
    pairs = list(combinations(range(len(truth)), 2))
    true = {pair for pair in pairs if truth[pair[0]] == truth[pair[1]]}
    linked = {pair for pair in pairs if predicted[pair[0]] == predicted[pair[1]]}
    precision = [sum(1 for j in range(len(truth)) if predicted[j] == predicted[i] and truth[j] == truth[i])
                 / predicted.count(predicted[i]) for i in range(len(truth))]
    recall = [sum(1 for j in range(len(truth)) if predicted[j] == predicted[i] and truth[j] == truth[i])
              / truth.count(truth[i]) for i in range(len(truth))]
    return {
        "pairwise_precision": len(true & linked) / len(linked) if linked else 1.0,
        "pairwise_recall": len(true & linked) / len(true) if true else 1.0,
        "bcubed_precision": sum(precision) / len(truth) if truth else 1.0,
        "bcubed_recall": sum(recall) / len(truth) if truth else 1.0,
        "true_pairs": len(true), "predicted_pairs": len(linked), "correct_pairs": len(true & linked),
    }


def assert_same(got: Scores, expected: Scores) -> None:
    """Equal up to the order floating-point sums were taken in."""
    assert got.as_dict() == pytest.approx(expected.as_dict())


def assert_perfect(scores: Scores) -> None:
    values = scores.as_dict()
    assert all(values[name] == 1.0 for name in values if name.endswith(("precision", "recall", "f1")))
    assert scores.correct_pairs == scores.true_pairs == scores.predicted_pairs


def test_a_perfect_clustering_scores_one() -> None:
    assert_perfect(score(TRUTH, TRUTH))


def test_the_known_example_in_fractions() -> None:
    scores = score(TRUTH, PREDICTED)
    assert (scores.mentions, scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (7, 5, 4, 2)
    assert scores.pairwise_precision == pytest.approx(2 / 4)
    assert scores.pairwise_recall == pytest.approx(2 / 5)
    assert scores.pairwise_f1 == pytest.approx(4 / 9)
    # per mention: 2/2 2/2 1/3 2/3 2/3 1/1 1/1 and 2/3 2/3 1/3 2/2 2/2 1/2 1/2
    precision = sum(Fraction(c, p) for c, p in [(2, 2), (2, 2), (1, 3), (2, 3), (2, 3), (1, 1), (1, 1)]) / 7
    recall = sum(Fraction(c, t) for c, t in [(2, 3), (2, 3), (1, 3), (2, 2), (2, 2), (1, 2), (1, 2)]) / 7
    assert scores.bcubed_precision == pytest.approx(float(precision))
    assert scores.bcubed_recall == pytest.approx(float(recall))
    assert scores.bcubed_f1 == pytest.approx(float(2 * precision * recall / (precision + recall)))


def test_everything_in_one_cluster() -> None:
    scores = score(TRUTH, ["x"] * 7)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (5, 21, 5)
    assert scores.pairwise_precision == pytest.approx(5 / 21)
    assert scores.pairwise_recall == 1.0
    assert scores.bcubed_precision == pytest.approx((3 * 3 / 7 + 2 * 2 / 7 + 2 * 2 / 7) / 7)
    assert scores.bcubed_recall == 1.0


def test_all_singletons() -> None:
    scores = score(TRUTH, list(range(7)))
    assert scores.predicted_pairs == 0
    assert scores.pairwise_precision == 1.0  # nothing predicted, nothing wrong
    assert scores.pairwise_recall == 0.0
    assert scores.pairwise_f1 == 0.0
    assert scores.bcubed_precision == 1.0
    assert scores.bcubed_recall == pytest.approx((3 * 1 / 3 + 2 * 1 / 2 + 2 * 1 / 2) / 7)


def test_no_true_pairs_means_full_recall() -> None:
    scores = score([1, 2, 3], [1, 1, 3])
    assert (scores.pairwise_precision, scores.pairwise_recall, scores.pairwise_f1) == (0.0, 1.0, 0.0)


def test_no_mentions() -> None:
    assert_perfect(score([], []))
    assert score([], []).mentions == 0


def test_each_null_label_is_a_cluster_of_its_own() -> None:
    assert_same(score(["a", "a", None, None], [1, 1, 2, 3]), score(["a", "a", "b", "c"], [1, 1, 2, 3]))
    assert list(cluster_codes(pa.array([None, "x", None, "x"]))) == [1, 0, 2, 0]


def test_arrow_numpy_chunked_and_dictionary_labels_agree() -> None:
    expected = score(TRUTH, PREDICTED)
    assert_same(score(pa.array(TRUTH), np.array(PREDICTED)), expected)
    assert_same(score(pa.chunked_array([TRUTH[:3], TRUTH[3:]]), pa.array(PREDICTED).dictionary_encode()), expected)
    assert_same(score([("t", 1)] * 3 + [("t", 2)] * 2 + [("t", 3)] * 2, PREDICTED), expected)  # not Arrow-typed


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="truth has 7 labels but predicted has 6"):
        score(TRUTH, PREDICTED[:-1])


def test_relabelling_changes_nothing() -> None:
    renamed = {1: "q", 2: "r", 3: "s", 4: "t"}
    assert_same(score(TRUTH, PREDICTED), score([label * 2 for label in TRUTH], [renamed[p] for p in PREDICTED]))


def test_swapping_truth_and_prediction_swaps_precision_and_recall() -> None:
    forward, backward = score(TRUTH, PREDICTED), score(PREDICTED, TRUTH)
    assert backward.pairwise_precision == forward.pairwise_recall
    assert backward.pairwise_recall == forward.pairwise_precision
    assert backward.bcubed_precision == pytest.approx(forward.bcubed_recall)
    assert backward.bcubed_recall == pytest.approx(forward.bcubed_precision)
    assert backward.pairwise_f1 == pytest.approx(forward.pairwise_f1)


def mentions_table(entity_ids: Sequence[object], types: Sequence[str | None]) -> pa.Table:
    n = len(entity_ids)
    return pa.table({"file": ["f.csv"] * n, "row": list(range(n)), "role": [""] * n,
                     "entity_id": entity_ids, "entity_type": types})


def test_score_tables_scores_each_entity_type() -> None:
    types = ["person"] * 7 + ["enterprise"] * 3
    truth = mentions_table([*TRUTH, "e1", "e1", "e2"], types)
    predicted = mentions_table([*PREDICTED, 9, 9, 9], ["ignored"] * 10)
    scores = score_tables(truth, predicted.take([9, 3, 0, 8, 2, 7, 6, 5, 4, 1]))  # order does not matter
    assert list(scores) == ["enterprise", "person"]
    assert_same(scores["enterprise"], score(["e1", "e1", "e2"], [9, 9, 9]))
    assert_same(scores["person"], score(TRUTH, PREDICTED))
    everything = score_tables(truth, predicted, by=None)
    assert list(everything) == ["all"]
    assert_same(everything["all"], score([*TRUTH, "e1", "e1", "e2"], [*PREDICTED, 9, 9, 9]))


def test_score_tables_missing_mentions_are_singletons_and_extra_ones_are_ignored() -> None:
    truth = mentions_table(["a", "a", "a", "b"], ["person", "person", None, None])
    predicted = pa.table({"file": ["f.csv", "f.csv", "f.csv", "other.csv"], "row": [0, 1, 3, 0],
                          "role": ["", "", "", ""], "entity_id": [5, 5, 5, 5]})
    scores = score_tables(truth, predicted)
    assert list(scores) == [NULL_GROUP, "person"]
    assert_same(scores[NULL_GROUP], score(["a", "b"], [None, 5]))
    assert_same(scores["person"], score(["a", "a"], [5, 5]))
    assert_same(score_tables(truth, predicted, by=None)["all"], score(["a", "a", "a", "b"], [5, 5, None, 5]))


def test_score_tables_joins_row_numbers_of_different_integer_widths() -> None:
    truth = mentions_table(["a", "a", "b"], ["person"] * 3)
    predicted = pa.table({"file": ["f.csv"] * 3, "row": pa.array([0, 1, 2], pa.int32()), "role": [""] * 3,
                          "entity_id": [7, 7, 8]})
    assert score_tables(truth, predicted)["person"].pairwise_f1 == 1.0


def test_score_tables_says_what_is_wrong_with_its_input() -> None:
    truth = mentions_table(["a", "b"], ["person", "person"])
    with pytest.raises(ValueError, match="predicted has no column 'entity_id'"):
        score_tables(truth, truth.drop_columns(["entity_id"]))
    with pytest.raises(ValueError, match=r"predicted has 1 rows whose \(file, row, role\) repeats"):
        score_tables(truth, pa.concat_tables([truth, truth.slice(0, 1)]))


@given(clusterings())
def test_scores_match_the_definitions(pair: tuple[list[int], list[int]]) -> None:
    truth, predicted = pair
    got = score(truth, predicted).as_dict()
    for name, value in brute_force(truth, predicted).items():
        assert got[name] == pytest.approx(value), name


@given(clusterings())
def test_scores_lie_between_zero_and_one(pair: tuple[list[int], list[int]]) -> None:
    scores = score(*pair).as_dict()
    assert all(0.0 <= value <= 1.0 for name, value in scores.items() if isinstance(value, float))


@given(labels, st.permutations(range(7)))
def test_a_relabelled_truth_is_a_perfect_prediction(truth: list[int], permutation: list[int]) -> None:
    assert_perfect(score(truth, [f"cluster-{permutation[label]}" for label in truth]))


@given(clusterings(), st.permutations(range(7)))
def test_scores_do_not_depend_on_the_labels_chosen(pair: tuple[list[int], list[int]], permutation: list[int]) -> None:
    truth, predicted = pair
    assert_same(score(truth, predicted), score(truth, [permutation[label] for label in predicted]))


@given(clusterings(min_size=1), st.randoms(use_true_random=False))
@settings(max_examples=50)
def test_score_tables_agrees_with_score(pair: tuple[list[int], list[int]], random: Random) -> None:
    truth, predicted = pair
    types = ["person" if label % 2 else "enterprise" for label in truth]
    order = list(range(len(truth)))
    random.shuffle(order)
    tables = score_tables(mentions_table(list(truth), types), mentions_table(list(predicted), types).take(order))
    for kind, scores in tables.items():
        rows = [i for i, t in enumerate(types) if t == kind]
        assert_same(scores, score([truth[i] for i in rows], [predicted[i] for i in rows]))
