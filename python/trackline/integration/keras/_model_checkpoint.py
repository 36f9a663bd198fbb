"""``WandbModelCheckpoint``: Keras's ``ModelCheckpoint`` (which decides when and what to save)
that also logs each saved checkpoint as a version of the run's ``model`` artifact."""

import inspect
import os
import string

import trackline

from ._keras import active_run, callbacks


class WandbModelCheckpoint(callbacks.ModelCheckpoint):
    """Saves as ``ModelCheckpoint(filepath, ...)`` does and logs the file (a folder: its files)
    as artifact ``run_<id>_model``, aliased ``latest`` and ``epoch_<N>``, or
    ``epoch_<N>_batch_<B>`` when ``save_freq`` is a number of batches. With ``save_best_only``
    an epoch that saved nothing new logs nothing (wandb 0.31 raises FileNotFoundError when
    ``filepath`` names each epoch's file); a fixed ``filepath`` logs the best file again, which
    moves the aliases to its version."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None, **kwargs):
        super().__init__(filepath=filepath, monitor=monitor, verbose=verbose,
                         save_best_only=save_best_only, save_weights_only=save_weights_only,
                         mode=mode, save_freq=save_freq,
                         initial_value_threshold=initial_value_threshold, **kwargs)
        active_run("You must call `wandb.init()` before `WandbModelCheckpoint()`")
        self.save_weights_only = save_weights_only
        if self.save_best_only:
            self._check_filepath()

    def _with_batch(self):
        """Keras >= 2.6 saves and names a checkpoint by epoch and batch; older ones by epoch."""
        return "batch" in inspect.signature(self._get_file_path).parameters

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            where = {"batch": batch} if self._with_batch() else {}
            self._save_model(epoch=self._current_epoch, logs=logs, **where)
            filepath = self._get_file_path(epoch=self._current_epoch, logs=logs, **where)
            self._log_ckpt_as_artifact(
                filepath, aliases=["latest", "epoch_%s_batch_%s" % (self._current_epoch, batch)])

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.save_freq == "epoch":
            where = {"batch": None} if self._with_batch() else {}
            filepath = self._get_file_path(epoch=epoch, logs=logs, **where)
            self._log_ckpt_as_artifact(filepath, aliases=["latest", "epoch_%s" % epoch])

    def _log_ckpt_as_artifact(self, filepath, aliases=None):
        """Log the checkpoint at ``filepath`` as a version of ``run_<id>_model``."""
        run = active_run("You must call `wandb.init()` before `WandbModelCheckpoint()`")
        artifact = trackline.Artifact("run_%s_model" % run.id, type="model")
        if os.path.isfile(filepath):
            artifact.add_file(filepath)
        elif os.path.isdir(filepath):
            artifact.add_dir(filepath)
        elif self.save_best_only:
            return  # not better than the best: Keras saved nothing this time
        else:
            raise FileNotFoundError("No such file or directory %s" % filepath)
        trackline.log_artifact(artifact, aliases=aliases or [])

    def _check_filepath(self):
        if not any(field is not None for _, field, _, _ in string.Formatter().parse(self.filepath)):
            trackline.termwarn(
                "When using `save_best_only`, ensure that the `filepath` argument contains "
                "formatting placeholders like `{epoch:02d}` or `{batch:02d}`. This ensures "
                "correct interpretation of the logged artifacts.", repeat=False)
