"""Follows the docs page "Create and track plots from experiments" (``wandb.plot``): line,
scatter, bar, histogram and line_series charts built from ``wandb.Table`` data."""

import math
import random

import wandb

random.seed(11)
run = wandb.init(project="custom-charts")
line = wandb.Table(data=[[x, math.sin(x / 3)] for x in range(20)], columns=["x", "y"])
run.log({"sine": wandb.plot.line(line, "x", "y", title="Sine")})
points = wandb.Table(data=[[random.random(), random.random()] for _ in range(30)],
                     columns=["class_x", "class_y"])
run.log({"scatter": wandb.plot.scatter(points, "class_x", "class_y", title="Scatter")})
bars = wandb.Table(data=[["cat", 3], ["dog", 5], ["bird", 2]], columns=["label", "value"])
run.log({"bars": wandb.plot.bar(bars, "label", "value", title="Counts")})
scores = wandb.Table(data=[[random.gauss(0, 1)] for _ in range(40)], columns=["scores"])
run.log({"score_hist": wandb.plot.histogram(scores, "scores", title="Scores")})
xs = list(range(10))
run.log({"series": wandb.plot.line_series(xs=xs, ys=[[x * x for x in xs], [2 * x for x in xs]],
                                          keys=["square", "double"], title="Series",
                                          xname="step")})
run.finish()
