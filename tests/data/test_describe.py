"""Feature types shown readably, and the summary behind `workbench data info`."""

from __future__ import annotations

from workbench.core.data.describe import dataset_info, describe_feature
from workbench.core.data.loading import open_dataset


def test_feature_types_are_readable():
    import datasets

    features = datasets.Features(
        {
            "text": datasets.Value("large_string"),
            "label": datasets.ClassLabel(names=["neg", "pos"]),
            "ids": datasets.List(datasets.Value("int32")),
            "spans": datasets.List({"start": datasets.Value("int64"), "tag": datasets.Value("string")}),
            "grid": datasets.List(datasets.List(datasets.Value("float32")), length=3),
        }
    )
    shown = {name: describe_feature(feature) for name, feature in features.items()}
    assert shown == {
        "text": "string",
        "label": "class label (2: neg, pos)",
        "ids": "list<int32>",
        "spans": "list<{start: int64, tag: string}>",
        "grid": "list<list<float32>, 3>",
    }


def test_info_of_a_saved_dataset_with_class_labels(tmp_path):
    import datasets

    data = datasets.Dataset.from_dict({"sentence": ["good", "bad", "fine"], "label": [1, 0, 1]})
    data = data.cast_column("label", datasets.ClassLabel(names=["negative", "positive"]))
    data.save_to_disk(str(tmp_path / "saved"))
    info = dataset_info(open_dataset(tmp_path / "saved"))
    assert info["kind"] == "saved" and info["splits"]["train"]["rows"] == 3
    assert info["label_column"] == "label" and info["label_names"] == ["negative", "positive"]
    assert info["features"]["label"] == "class label (2: negative, positive)"
