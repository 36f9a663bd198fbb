"""Keras: W&B's callbacks for ``model.fit``, as ``wandb.integration.keras`` (0.31) ships them.

- ``WandbMetricsLogger(log_freq="epoch", initial_global_step=0)`` logs the ``logs`` of each
  epoch as ``epoch/<name>`` with ``epoch/epoch`` and ``epoch/learning_rate``, or every
  ``log_freq``-th batch (``"batch"`` = 1) as ``batch/<name>`` with ``batch/batch_step`` and
  ``batch/learning_rate``; ``define_metric`` makes ``epoch/epoch`` (``batch/batch_step``) their
  x-axis.
- ``WandbModelCheckpoint(filepath, monitor, verbose, save_best_only, save_weights_only, mode,
  save_freq, initial_value_threshold)`` is Keras's ``ModelCheckpoint`` that also logs each saved
  file (or SavedModel folder) as a version of artifact ``run_<id>_model`` (type ``model``),
  aliased ``latest`` and ``epoch_<N>`` (``epoch_<N>_batch_<B>`` with an integer ``save_freq``).
- ``WandbEvalCallback(data_table_columns, pred_table_columns)``, the abstract base of prediction
  tables: ``add_ground_truth`` fills ``data_table`` once at the start of training (logged and used
  as artifact ``val``, read back as ``data_table_ref``), ``add_model_predictions`` fills
  ``pred_table`` after each epoch (a version of ``run_<id>_pred``, type ``evaluation``).

The legacy ``WandbCallback`` is gone from wandb 0.31, so it is not here either. Importing this
module imports TensorFlow (``tensorflow.keras``), or Keras 3 alone when TensorFlow is absent."""

__all__ = ("WandbMetricsLogger", "WandbModelCheckpoint", "WandbEvalCallback")

from ._eval_callback import WandbEvalCallback
from ._metrics_logger import WandbMetricsLogger
from ._model_checkpoint import WandbModelCheckpoint
