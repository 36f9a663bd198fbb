"""Follows colabs/wandb-log/Log_a_Confusion_Matrix_with_W&B.ipynb,
Plot_Precision_Recall_Curves_with_W&B.ipynb and Plot_ROC_Curves_with_W&B.ipynb:
``wandb.plot.confusion_matrix``, ``wandb.plot.pr_curve`` and ``wandb.plot.roc_curve`` on random
three-class predictions."""

import numpy as np

import wandb

rng = np.random.default_rng(12)
classes = ["cat", "dog", "bird"]
y_true = rng.integers(0, 3, size=60)
probas = rng.random((60, 3))
probas = (probas / probas.sum(axis=1, keepdims=True)).round(6)
preds = probas.argmax(axis=1)
run = wandb.init(project="classification-plots")
run.log({"conf_mat": wandb.plot.confusion_matrix(y_true=y_true.tolist(), preds=preds.tolist(),
                                                  class_names=classes)})
run.log({"pr": wandb.plot.pr_curve(y_true, probas, labels=classes)})
run.log({"roc": wandb.plot.roc_curve(y_true, probas, labels=classes)})
run.finish()
