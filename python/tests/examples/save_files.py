"""Follows the docs page "Save files to the cloud" (``wandb.save``): a checkpoint saved with
``policy="now"``, a glob with ``base_path``, a log file saved ``"live"`` and rewritten, and one
saved at the end."""

import os

import wandb

os.makedirs("checkpoints", exist_ok=True)
run = wandb.init(project="save-files")
for epoch in range(3):
    with open("checkpoints/model-%d.txt" % epoch, "w") as f:
        f.write("weights of epoch %d\n" % epoch)
    run.log({"epoch": epoch})
wandb.save("checkpoints/model-0.txt", policy="now")
wandb.save(os.path.abspath("checkpoints") + "/*.txt", base_path=os.path.abspath("."))
with open("train.log", "w") as f:
    f.write("started\n")
wandb.save("train.log", policy="live")
with open("train.log", "a") as f:
    f.write("done\n")
with open("final.txt", "w") as f:
    f.write("final\n")
wandb.save("final.txt", policy="end")
run.finish()
