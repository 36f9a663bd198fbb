"""The boosting callbacks (``trackline.integration.lightgbm``/``xgboost``) record what W&B's own
record: the same script runs under the real wandb 0.31 (offline) and under Trackline, and both
must have the same history keys with the same number of rows each, the same config keys and the
same summary keys. Needs lightgbm, xgboost and wandb (tests/requirements-media.txt)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import read_history, subprocess_env

pytest.importorskip("wandb")
from wandb_offline import run_wandb, own_keys_left_out, rows_per_key  # noqa: E402

LIGHTGBM = """
    import numpy as np, lightgbm as lgb
    from wandb.integration.lightgbm import wandb_callback, log_summary
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)); y = X[:, 0] * 2 + X[:, 1] + rng.normal(scale=0.1, size=300)
    train, valid = lgb.Dataset(X[:200], y[:200]), lgb.Dataset(X[200:], y[200:])
    params = {"objective": "regression", "metric": ["l2", "l1"], "verbose": -1, "seed": 1}
    booster = lgb.train(params, train, num_boost_round=12, valid_sets=[train, valid],
                        valid_names=["training", "validation"],
                        callbacks=[wandb_callback(), lgb.early_stopping(50, verbose=False)])
    log_summary(booster, save_model_checkpoint=True)
"""

XGBOOST = """
    import numpy as np, xgboost as xgb
    from wandb.integration.xgboost import WandbCallback
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=9, max_depth=3, early_stopping_rounds=20,
                              eval_metric=["logloss", "auc"], callbacks=[WandbCallback()])
    model.fit(X[:200], y[:200], eval_set=[(X[:200], y[:200]), (X[200:], y[200:])], verbose=False)
"""


def _run_trackline(tmp_path, code):
    """``code`` under ``import trackline as wandb`` (``wandb.integration`` from the shim's
    modules, imported by their Trackline names); returns the run folder."""
    code = textwrap.dedent(code).replace("from wandb.integration.", "from trackline.integration.")
    root = tmp_path / "tl_root"
    script = tmp_path / "tl_script.py"
    script.write_text("import trackline as wandb\nrun = wandb.init(project='p')\n%s\n"
                      "print(run.id)\nrun.finish()\n" % code)
    done = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path),
                          env=subprocess_env(root), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.strip().splitlines()[-1]
    return os.path.join(str(root), "p", run_id)


def _compare(tmp_path, code):
    wb = run_wandb(tmp_path, code)
    wb_summary = wb.summary
    run_dir = _run_trackline(tmp_path, code)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        tl_config = json.load(f)
    with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as f:
        tl_summary = json.load(f)
    assert rows_per_key(read_history(run_dir)) == rows_per_key(wb.history)
    assert own_keys_left_out(tl_config) == own_keys_left_out(wb.config)
    assert own_keys_left_out(tl_summary) == own_keys_left_out(wb_summary)
    return wb, wb_summary, run_dir, tl_summary


def test_lightgbm_callback_records_what_wandb_records(tmp_path):
    pytest.importorskip("lightgbm")
    wb, wb_summary, run_dir, tl_summary = _compare(tmp_path, LIGHTGBM)
    rows = read_history(run_dir)
    assert [r["iteration"] for r in rows if "iteration" in r] == list(range(12))
    # define_metric(summary="min") keeps the best validation l2, as W&B's summary does.
    assert tl_summary["validation_l2"]["min"] == pytest.approx(wb_summary["validation_l2"]["min"])
    assert tl_summary["best_iteration"] == wb_summary["best_iteration"]
    artifacts = os.path.join(os.path.dirname(run_dir), ".artifacts")
    assert os.listdir(artifacts) == ["model_" + os.path.basename(run_dir)]


def test_xgboost_callback_records_what_wandb_records(tmp_path):
    pytest.importorskip("xgboost")
    _, wb_summary, run_dir, tl_summary = _compare(tmp_path, XGBOOST)
    rows = read_history(run_dir)
    assert [r["epoch"] for r in rows if "epoch" in r] == list(range(9))
    assert "validation_1-auc" in tl_summary and "validation_1-logloss" in tl_summary
    assert tl_summary["best_iteration"] == wb_summary["best_iteration"]


SKLEARN = """
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs, make_classification, make_regression
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import Ridge
    import wandb.sklearn
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    Xtr, Xte, ytr, yte = X[:150], X[150:], y[:150], y[150:]
    clf = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xtr, ytr)
    wandb.sklearn.plot_classifier(clf, Xtr, Xte, ytr, yte, clf.predict(Xte),
                                  clf.predict_proba(Xte), ["no", "yes"], model_name="RF",
                                  feature_names=list("abcdef"), log_learning_curve=True)
    Xr, yr = make_regression(n_samples=120, n_features=4, noise=0.5, random_state=0)
    reg = Ridge().fit(Xr[:90], yr[:90])
    wandb.sklearn.plot_regressor(reg, Xr[:90], Xr[90:], yr[:90], yr[90:], "Ridge")
    Xc, _ = make_blobs(n_samples=90, centers=3, random_state=0)
    km = KMeans(n_clusters=3, n_init=3, random_state=0).fit(Xc)
    wandb.sklearn.plot_clusterer(km, Xc, km.labels_, model_name="KMeans")
    wandb.sklearn.plot_confusion_matrix(yte, clf.predict(Xte), normalize=True)
"""


def _table_shapes(rows, run_files_dir):
    """``{key: (nrows, ncols)}`` of every table a history row references."""
    shapes = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict) and value.get("_type") == "table-file":
                shapes[key] = (value["nrows"], value["ncols"])
    return shapes


def test_sklearn_plots_record_what_wandb_records(tmp_path):
    pytest.importorskip("sklearn")
    wb = run_wandb(tmp_path, SKLEARN)
    run_dir = _run_trackline(tmp_path, SKLEARN.replace("import wandb.sklearn",
                                                       "import trackline.integration.sklearn")
                             .replace("wandb.sklearn.", "wandb.integration.sklearn."))
    rows = read_history(run_dir)
    assert rows_per_key(rows) == rows_per_key(wb.history)
    # Same tables, same shapes (the residuals' random split changes values, never counts).
    assert _table_shapes(rows, run_dir) == _table_shapes(wb.history, wb.files_dir)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        specs = json.load(f)["_wandb"]["visualize"]
    assert sorted(specs) == sorted(wb.config["_wandb"]["visualize"])
    assert {k: v["panel_config"]["panelDefId"] for k, v in specs.items()} == {
        k: v["panel_config"]["panelDefId"] for k, v in wb.config["_wandb"]["visualize"].items()}


def test_sklearn_bad_arguments_are_reported_and_skipped(tmp_path, capsys):
    """W&B's checks report a missing or unfitted model and skip the chart (wandb 0.31 itself
    raises on a None model with current scikit-learn; Trackline reports it)."""
    pytest.importorskip("sklearn")
    import trackline
    from sklearn.ensemble import RandomForestClassifier
    from trackline.integration import sklearn as tl_sklearn

    run = trackline.init(project="p")
    tl_sklearn.plot_summary_metrics(None, [[0.0]], [0], [[0.0]], [0])
    tl_sklearn.plot_feature_importances(RandomForestClassifier())
    tl_sklearn.plot_calibration_curve(RandomForestClassifier().fit([[0], [1], [2]], [0, 1, 2]),
                                      [[0], [1], [2]], [0, 1, 2])
    run.finish()
    err = capsys.readouterr().err
    assert "model is None. Please try again." in err
    assert "Please fit the model before passing it in." in err
    assert "expects labels to be binary" in err
    assert read_history(run.dir) == []
