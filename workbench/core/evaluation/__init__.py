"""Evaluation results read back: confusion matrices, per-class scores, worst examples, flips between
two models and the text the model card shows (`analysis`). No torch at import time."""
