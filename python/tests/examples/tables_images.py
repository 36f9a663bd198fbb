"""Follows colabs/datasets-predictions/Image_Classification_with_Tables.ipynb: a predictions
table whose first column holds ``wandb.Image`` cells (random 8x8 "digits"), with the guess, the
truth and per-class scores, logged once per epoch."""

import numpy as np

import wandb

rng = np.random.default_rng(9)
run = wandb.init(project="tables-images", config={"epochs": 2, "samples": 4})
for epoch in range(run.config.epochs):
    table = wandb.Table(columns=["image", "guess", "truth"] + ["score_%d" % d for d in range(3)])
    for _ in range(run.config.samples):
        pixels = rng.integers(0, 255, size=(8, 8), dtype=np.uint8)
        scores = rng.random(3)
        table.add_data(wandb.Image(pixels), int(scores.argmax()), int(rng.integers(0, 3)),
                       *[round(float(s), 6) for s in scores])
    run.log({"epoch": epoch, "predictions_table": table})
run.finish()
