"""Follows colabs/keras/Use_WandbMetricLogger_in_your_Keras_workflow.ipynb and
colabs/keras/Use_WandbModelCheckpoint_in_your_Keras_workflow.ipynb: a small Keras classifier
trained with ``WandbMetricsLogger`` (per epoch and every few batches, with a learning-rate
schedule) and ``WandbModelCheckpoint`` (the best model, as artifacts), on random images instead
of the downloaded dataset."""

import numpy as np
import keras

import wandb
from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint

keras.utils.set_random_seed(7)
rng = np.random.default_rng(7)
x = rng.normal(size=(256, 8, 8, 1)).astype("float32")
y = (x.mean(axis=(1, 2, 3)) > 0).astype("int64")
configs = {"batch_size": 32, "epochs": 3, "learning_rate": 0.01}
run = wandb.init(project="intro-keras", config=configs)
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(4, 3, activation="relu"),
    keras.layers.Flatten(),
    keras.layers.Dense(2, activation="softmax"),
])
schedule = keras.optimizers.schedules.ExponentialDecay(configs["learning_rate"], 10, 0.9)
model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x[:192], y[:192], validation_data=(x[192:], y[192:]), epochs=configs["epochs"],
          batch_size=configs["batch_size"], verbose=0,
          callbacks=[WandbMetricsLogger(log_freq=2),
                     WandbModelCheckpoint("best.keras", monitor="val_accuracy",
                                          save_best_only=True)])
run.finish()
