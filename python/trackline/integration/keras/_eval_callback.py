"""``WandbEvalCallback``: the abstract base of callbacks that log a table of the validation data
once and a table of the model's predictions after each epoch, both as artifacts."""

import abc

import trackline

from ._keras import active_run, callbacks


class WandbEvalCallback(callbacks.Callback, abc.ABC):
    """Subclass it and implement ``add_ground_truth(logs)`` (fill ``self.data_table``) and
    ``add_model_predictions(epoch, logs)`` (fill ``self.pred_table``, reading the logged data
    back from ``self.data_table_ref``). At the start of training the data table is logged and
    used as artifact ``val`` (type ``dataset``, table ``val_data``); after each epoch the
    prediction table becomes a version of ``run_<id>_pred`` (type ``evaluation``, table
    ``eval_data``, alias ``latest``)."""

    def __init__(self, data_table_columns, pred_table_columns, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active_run("You must call `wandb.init()` first before using this callback.")
        self.data_table_columns = data_table_columns
        self.pred_table_columns = pred_table_columns

    def on_train_begin(self, logs=None):
        self.init_data_table(column_names=self.data_table_columns)
        self.add_ground_truth(logs)
        self.log_data_table()

    def on_epoch_end(self, epoch, logs=None):
        self.init_pred_table(column_names=self.pred_table_columns)
        self.add_model_predictions(epoch, logs)
        self.log_pred_table()

    @abc.abstractmethod
    def add_ground_truth(self, logs=None):
        """Add the ground truth to ``self.data_table`` (called once, at the start)."""
        raise NotImplementedError("%s.add_ground_truth" % self.__class__.__name__)

    @abc.abstractmethod
    def add_model_predictions(self, epoch, logs=None):
        """Add the model's predictions to ``self.pred_table`` (called after each epoch)."""
        raise NotImplementedError("%s.add_model_predictions" % self.__class__.__name__)

    def init_data_table(self, column_names):
        """A fresh ``self.data_table`` with these columns (mixed types allowed)."""
        self.data_table = trackline.Table(columns=column_names, allow_mixed_types=True)

    def init_pred_table(self, column_names):
        """A fresh ``self.pred_table`` with these columns."""
        self.pred_table = trackline.Table(columns=column_names)

    def log_data_table(self, name="val", type="dataset", table_name="val_data"):
        """Log ``data_table`` as artifact ``name``, used by the run (``use_artifact`` of a new
        artifact commits it with no producer, as W&B's does), and read it back as
        ``data_table_ref``."""
        run = active_run("You must call `wandb.init()` first before using this callback.")
        data_artifact = trackline.Artifact(name, type=type)
        data_artifact.add(self.data_table, table_name)
        run.use_artifact(data_artifact)
        data_artifact.wait()
        self.data_table_ref = data_artifact.get(table_name)

    def log_pred_table(self, type="evaluation", table_name="eval_data", aliases=None):
        """Log ``pred_table`` as a new version of ``run_<id>_pred``."""
        run = active_run("You must call `wandb.init()` first before using this callback.")
        pred_artifact = trackline.Artifact("run_%s_pred" % run.id, type=type)
        pred_artifact.add(self.pred_table, table_name)
        run.log_artifact(pred_artifact, aliases=aliases or ["latest"])
