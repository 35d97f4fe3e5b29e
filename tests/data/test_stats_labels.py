"""A regression target's statistics: a binned histogram with short numbers, not a bar per value."""

from __future__ import annotations

from workbench.core.data import stats


def test_float_labels_are_binned_with_short_numbers():
    import datasets

    # STS-B-like: 78 different float32 scores from 0 to 5 (2.4 reads back as 2.4000000953674316).
    scores = [round(i * 5 / 77, 2) for i in range(78)] + [2.4]
    data = datasets.Dataset.from_dict({"score": scores}).cast_column("score", datasets.Value("float32"))
    rows = stats.label_distribution(data, "score")
    assert [label for label, _ in rows] == [f"{i / 2:g}–{(i + 1) / 2:g}" for i in range(10)]
    assert sum(count for _, count in rows) == 79
    assert rows[-1] == ("4.5–5", 8)  # the last range holds its upper end (5.0)
    assert not any("0000" in label for label, _ in rows)


def test_float_histogram_edge_cases():
    import pyarrow as pa

    assert stats.float_histogram(pa.chunked_array([[2.5, 2.5, None]])) == [("2.5", 2), ("∅ (empty)", 1)]
    assert stats.float_histogram(pa.chunked_array([[-1.0, 1.0]]), bins=4) == [
        ("-1–-0.5", 1),
        ("-0.5–0", 0),
        ("0–0.5", 0),
        ("0.5–1", 1),
    ]
    assert stats.short_number(2.4000000953674316) == "2.4" and stats.short_number(0.0) == "0"


def test_integer_scores_are_binned_like_the_label_rule_says():
    import datasets

    data = datasets.Dataset.from_dict({"year": list(range(1900, 2100)), "label": [i % 3 for i in range(200)]})
    assert stats.label_distribution(data, "label") == [("0", 67), ("1", 67), ("2", 66)]
    rows = stats.label_distribution(data, "year")
    assert rows[0] == ("1900–1920", 20) and len(rows) == 10 and sum(n for _, n in rows) == 200
