"""Metrics through `evaluate`, from the local metric modules shipped in `workbench/core/tasks/metrics/`.

`evaluate.load("accuracy")` fetches the module from the Hub, which fails offline; loading the
same kind of module by path works with no network.
"""

from __future__ import annotations

from pathlib import Path

METRICS_DIR = Path(__file__).resolve().parent / "metrics"
REGRESSION_METRICS = ("pearsonr", "spearmanr")
AVERAGED_METRICS = ("f1", "precision", "recall")


def metric_path(name: str) -> Path:
    path = METRICS_DIR / f"{name}.py"
    if not path.is_file():
        known = sorted(p.stem for p in METRICS_DIR.glob("*.py"))
        raise ValueError(f"no local metric {name!r} (known: {', '.join(known)})")
    return path


class MetricSet:
    """The run's metrics, loaded once; `compute` takes predictions and references as sequences."""

    def __init__(self, names: list[str], num_labels: int) -> None:
        self.num_labels = num_labels
        self.regression = num_labels == 1
        # Classification metrics make no sense for regression and the reverse; keep the ones that fit.
        fitting = [name for name in names if (name in REGRESSION_METRICS) == self.regression]
        if names and not fitting:
            fitting = ["pearsonr", "spearmanr"] if self.regression else ["accuracy"]
        self.names = fitting
        self.modules = {}
        if fitting:  # no metrics asked for: evaluation reports the loss only, and evaluate is not imported
            import evaluate

            # In memory: no cache files or locks per evaluation.
            self.modules = {name: evaluate.load(str(metric_path(name)), keep_in_memory=True) for name in fitting}

    def compute(self, predictions, references) -> dict[str, float]:
        results: dict[str, float] = {}
        for name, module in self.modules.items():
            kwargs = {}
            if name in AVERAGED_METRICS and self.num_labels > 2:
                kwargs["average"] = "macro"
            value = module.compute(predictions=predictions, references=references, **kwargs)
            results.update({key: float(number) for key, number in value.items()})
        return results
