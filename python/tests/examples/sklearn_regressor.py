"""Follows examples/scikit/scikit-housing/sklearn_regression.py and
colabs/scikit/w-b-k-means-clustering.ipynb: a Ridge regression with
``wandb.sklearn.plot_regressor``, ``plot_outlier_candidates``, ``plot_residuals``, and a KMeans
clusterer with ``plot_clusterer`` and ``plot_elbow_curve`` (synthetic data instead of downloads)."""

from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_regression
from sklearn.linear_model import Ridge

import wandb

X, y = make_regression(n_samples=150, n_features=5, noise=0.3, random_state=0)
X_train, X_test, y_train, y_test = X[:110], X[110:], y[:110], y[110:]
wandb.init(project="regression-housing-demo")
reg = Ridge().fit(X_train, y_train)
wandb.sklearn.plot_regressor(reg, X_train, X_test, y_train, y_test, model_name="Ridge")
wandb.sklearn.plot_outlier_candidates(reg, X, y)
Xc, _ = make_blobs(n_samples=90, centers=3, random_state=0)
km = KMeans(n_clusters=3, n_init=3, random_state=0).fit(Xc)
wandb.sklearn.plot_clusterer(km, Xc, km.labels_, labels=["a", "b", "c"], model_name="KMeans")
wandb.sklearn.plot_elbow_curve(KMeans(n_init=2, random_state=0), Xc, cluster_ranges=range(1, 5))
wandb.finish()
