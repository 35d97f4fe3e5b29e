"""The training fixtures (a tiny BERT made from a config, a few hundred rows) shared with tests/training."""

from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir, tiny_spec  # noqa: F401
