"""Follows colabs/wandb-log/Log_(Almost)_Anything_with_W&B_Media.ipynb: images from numpy
arrays (uint8 RGB, float greyscale), from a PIL image, with captions, a list of images under one
key, and histograms from a sequence and from ``np.histogram``."""

import numpy as np
from PIL import Image as PILImage

import wandb

rng = np.random.default_rng(10)
run = wandb.init(project="log-anything")
for step in range(3):
    rgb = rng.integers(0, 255, size=(16, 12, 3), dtype=np.uint8)
    grey = rng.random((10, 10))
    pil = PILImage.fromarray(rng.integers(0, 255, size=(6, 6, 3), dtype=np.uint8))
    run.log({
        "examples/rgb": wandb.Image(rgb, caption="random rgb %d" % step),
        "examples/grey": wandb.Image(grey),
        "pil": wandb.Image(pil, caption="from PIL"),
        "batch": [wandb.Image(rng.integers(0, 255, size=(4, 4), dtype=np.uint8))
                  for _ in range(3)],
        "gradients": wandb.Histogram(rng.normal(size=200)),
        "weights": wandb.Histogram(np_histogram=np.histogram(rng.random(50), bins=8)),
        "loss": 1.0 / (step + 1),
    })
run.finish()
