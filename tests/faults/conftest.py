"""The tiny model, data and spec of the engine's end-to-end tests, for faults against real children."""

from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir, tiny_spec  # noqa: F401
