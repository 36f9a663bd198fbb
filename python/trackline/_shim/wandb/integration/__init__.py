"""``wandb.integration``: the training-library callbacks (Trackline's ``trackline.integration``)."""
