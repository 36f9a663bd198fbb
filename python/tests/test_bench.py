"""The benchmark script keeps working: one measurement of each workload in a fresh subprocess (the
figures themselves are not checked here; bench_log.py prints them)."""

import os
import sys

import pytest

from conftest import PYTHON_DIR

sys.path.insert(0, os.path.join(PYTHON_DIR, "bench"))

import bench_log  # noqa: E402


@pytest.mark.parametrize("workload", sorted(bench_log.WORKLOADS))
@pytest.mark.parametrize("mode", ["baseline", "trackline"])
def test_one_measurement(workload, mode):
    result = bench_log.spawn(workload, mode, timed=(mode == "trackline"))
    calls = bench_log.WORKLOADS[workload]
    assert result["calls"] == calls
    assert result["lines"] == calls  # no point lost
    assert result["loop_s"] > 0 and result["finish_s"] >= 0
    assert result["stderr"] == ""
    if mode == "trackline":
        assert 0 < result["p50_us"] <= result["p99_us"] <= result["max_us"]


def test_seed_workload_is_the_blog_pattern():
    calls = list(bench_log.seed_calls())
    assert len(calls) == 20020
    assert sum(1 for data, _ in calls if "Valid Loss" in data) == 20
    assert calls[1000] == ({"Valid Loss": 0.5 + 1.0 / 1000}, True)
    wide = list(bench_log.wide_calls())
    assert len(wide) == 5000 and all(len(data) == 50 for data, _ in wide)
