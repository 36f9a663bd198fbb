"""Follows examples/scikit/scikit-classification/train.py and
colabs/scikit/Simple_Scikit_Integration.ipynb: a random forest on a synthetic multi-class data
set and ``wandb.sklearn.plot_classifier`` with labels and feature names."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

import wandb
import wandb.sklearn

X, y = make_classification(n_samples=240, n_features=6, n_informative=4, n_classes=3,
                           random_state=0)
X_train, X_test, y_train, y_test = X[:180], X[180:], y[:180], y[180:]
labels = ["one", "two", "three"]
wandb.init(project="sklearn-classification", config={"n_estimators": 10})
model = RandomForestClassifier(n_estimators=wandb.config.n_estimators, random_state=0)
model.fit(X_train, y_train)
y_pred, y_probas = model.predict(X_test), model.predict_proba(X_test)
wandb.sklearn.plot_classifier(model, X_train, X_test, y_train, y_test, y_pred, y_probas, labels,
                              is_binary=False, model_name="RandomForest",
                              feature_names=["f%d" % i for i in range(6)])
wandb.log({"test_accuracy": float(np.mean(y_pred == y_test))})
