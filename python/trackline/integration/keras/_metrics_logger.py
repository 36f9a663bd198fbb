"""``WandbMetricsLogger``: the logs Keras hands to each epoch (or every ``log_freq``-th batch),
prefixed ``epoch/`` (``batch/``), with the step and the optimizer's learning rate."""

import trackline

from ._keras import active_run, callbacks, to_float


class WandbMetricsLogger(callbacks.Callback):
    """Logs the ``logs`` of ``on_epoch_end`` (``log_freq="epoch"``) or of every ``log_freq``-th
    batch of each epoch (``"batch"`` or an int). ``initial_global_step`` is where a learning
    rate schedule resumes (``steps_per_epoch * initial_epoch``)."""

    def __init__(self, log_freq="epoch", initial_global_step=0, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active_run("You must call `wandb.init()` before WandbMetricsLogger()")
        if log_freq == "batch":
            log_freq = 1
        self.logging_batch_wise = isinstance(log_freq, int)
        self.log_freq = log_freq if self.logging_batch_wise else None
        self.global_batch = 0
        self.global_step = initial_global_step
        if self.logging_batch_wise:
            trackline.define_metric("batch/batch_step")
            trackline.define_metric("batch/*", step_metric="batch/batch_step")
        else:
            trackline.define_metric("epoch/epoch")
            trackline.define_metric("epoch/*", step_metric="epoch/epoch")

    def _get_lr(self):
        """The learning rate now (a schedule's at ``global_step``), or None with W&B's error."""
        lr = self.model.optimizer.learning_rate
        if getattr(lr, "shape", None) == ():
            return to_float(lr)
        try:
            return to_float(lr(step=self.global_step))
        except Exception as e:  # noqa: BLE001  (W&B reports any failure and goes on)
            trackline.termerror("Unable to log learning rate: %s" % e, repeat=False)
            return None

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else {"epoch/%s" % k: v for k, v in logs.items()}
        logs["epoch/epoch"] = epoch
        lr = self._get_lr()
        if lr is not None:
            logs["epoch/learning_rate"] = lr
        trackline.log(logs)

    def on_batch_end(self, batch, logs=None):
        self.global_step += 1
        if self.logging_batch_wise and batch % self.log_freq == 0:
            logs = {"batch/%s" % k: v for k, v in logs.items()} if logs else {}
            logs["batch/batch_step"] = self.global_batch
            lr = self._get_lr()
            if lr is not None:
                logs["batch/learning_rate"] = lr
            trackline.log(logs)
            self.global_batch += self.log_freq

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs if logs else {})
