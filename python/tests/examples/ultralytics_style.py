"""Follows the calls Ultralytics' W&B callback (ultralytics/utils/callbacks/wb.py) makes during a
YOLO training, without YOLO: config from the trainer's args, per-epoch metrics and learning rates
at ``step=epoch + 1``, plot images logged once, the best weights as a ``run_<id>_model``
artifact (added as a ``pathlib.Path``), and precision-recall curves as ``plot_table`` custom
charts of a DataFrame logged with ``commit=False``, then ``plot.line``."""

import pathlib

import numpy as np
import pandas as pd
from PIL import Image

import wandb as wb

rng = np.random.default_rng(21)
args = {"model": "yolov8n.pt", "data": "coco8.yaml", "epochs": 3, "imgsz": 64, "batch": 4,
        "lr0": 0.01, "project": "YOLOv8", "name": "train"}
wb.run or wb.init(project=args["project"], name=args["name"], config=args)
work = pathlib.Path("yolo_work")
work.mkdir(exist_ok=True)
plots = {}
for name in ("labels", "results"):
    path = work / ("%s.png" % name)
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path)
    plots[path] = {"timestamp": 1.0}
logged = {}
for epoch in range(args["epochs"]):
    step = epoch + 1
    wb.run.log({"train/box_loss": 1.5 / step, "train/cls_loss": 0.9 / step}, step=step)
    wb.run.log({"lr/pg0": 0.01 * 0.9 ** epoch, "lr/pg1": 0.01 * 0.9 ** epoch}, step=step)
    wb.run.log({"metrics/precision(B)": 0.3 + 0.1 * epoch, "metrics/mAP50(B)": 0.2 + 0.1 * epoch,
                "val/box_loss": 1.6 / step}, step=step)
    for path, params in plots.items():
        if logged.get(path) != params["timestamp"]:
            wb.run.log({path.stem: wb.Image(str(path))}, step=step)
            logged[path] = params["timestamp"]
    if epoch == 0:
        wb.run.log({"model/parameters": 3157200, "model/GFLOPs": 8.9}, step=step)
best = work / "best.pt"
best.write_bytes(rng.bytes(2048))
art = wb.Artifact(type="model", name="run_%s_model" % wb.run.id)
art.add_file(best)
wb.run.log_artifact(art, aliases=["best"])
x = np.linspace(0, 1, 50)
y = np.stack([1 - x ** 2, 1 - x ** 3])
x_new = np.linspace(x[0], x[-1], 20).round(5)
x_log, y_log = x_new.tolist(), np.interp(x_new, x, y.mean(axis=0)).round(3).tolist()
classes = ["mean"] * len(x_log)
for i, yi in enumerate(y):
    x_log.extend(x_new)
    y_log.extend(np.interp(x_new, x, yi))
    classes.extend([["person", "car"][i]] * len(x_new))
df = pd.DataFrame({"class": classes, "y": y_log, "x": x_log}).round(3)
chart = wb.plot_table("wandb/area-under-curve/v0", wb.Table(dataframe=df),
                      fields={"x": "x", "y": "y", "class": "class"},
                      string_fields={"title": "PR", "x-axis-title": "Recall",
                                     "y-axis-title": "Precision"})
wb.log({"curves/PR": chart}, commit=False)
table = wb.Table(data=list(zip(x_new.tolist(), y[0][:20].tolist())), columns=["Recall", "P"])
wb.run.log({"PR mean": wb.plot.line(table, "Recall", "P", title="PR mean")})
wb.run.finish()
