"""Follows the docs pages "Send alerts with wandb.alert" and "Add labels to runs with tags":
``name``/``notes``/``tags`` at init and changed on ``wandb.run``, ``wandb.alert`` when a metric
crosses a threshold (``AlertLevel.WARN``), used as a context manager."""

import wandb
from wandb import AlertLevel

with wandb.init(project="alerts", name="baseline", notes="first try", tags=["baseline"]) as run:
    run.tags = run.tags + ("cpu",)
    run.notes = "first try, on CPU"
    for step, acc in enumerate([0.9, 0.7, 0.5, 0.8]):
        run.log({"accuracy": acc})
        if acc < 0.6:
            wandb.alert(title="Low accuracy", text="accuracy %.2f at step %d" % (acc, step),
                        level=AlertLevel.WARN)
