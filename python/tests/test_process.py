"""Real training-like scripts in subprocesses: exit states, background flushing, kill -9, atomicity."""

import json
import os
import signal
import time

import pytest

from conftest import (
    count_lines,
    only_run_dir,
    read_history,
    read_json,
    run_script,
    split_history,
    start_script,
    wait_for,
)


def run_json(tmp_path):
    return read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))


# -- how a script ends --------------------------------------------------------------------------------
def test_uncaught_exception_marks_run_failed_and_chains_the_hook(tmp_path):
    proc = run_script(tmp_path, """
        import sys
        import trackline as wandb

        def previous_hook(exc_type, exc, tb):
            sys.stderr.write("PREVIOUS HOOK RAN\\n")
            sys.__excepthook__(exc_type, exc, tb)

        sys.excepthook = previous_hook
        wandb.init(project="p")
        for i in range(3):
            wandb.log({"loss": 1.0 / (i + 1)})
        raise ValueError("boom")
    """)
    assert proc.returncode == 1
    assert "PREVIOUS HOOK RAN" in proc.stderr and "ValueError: boom" in proc.stderr
    meta = run_json(tmp_path)
    assert (meta["state"], meta["exit_code"]) == ("failed", 1)
    assert meta["finished_at"] is not None
    assert [r["_step"] for r in read_history(only_run_dir(tmp_path / "root"))] == [0, 1, 2]


def test_keyboard_interrupt_marks_run_failed(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        trackline.init(project="p")
        trackline.log({"a": 1})
        raise KeyboardInterrupt
    """)
    assert proc.returncode != 0
    meta = run_json(tmp_path)
    assert (meta["state"], meta["exit_code"]) == ("failed", 130)


@pytest.mark.parametrize("status, state, code", [
    ("3", "failed", 3), ("0", "finished", 0), ("None", "finished", 0), ("'message'", "failed", 1),
])
def test_sys_exit_code_sets_state(tmp_path, status, state, code):
    proc = run_script(tmp_path, """
        import sys
        import trackline
        trackline.init(project="p")
        trackline.log({"a": 1})
        sys.exit(%s)
    """ % status)
    assert proc.returncode == code
    meta = run_json(tmp_path)
    assert (meta["state"], meta["exit_code"]) == (state, code)


def test_atexit_finishes_a_run_the_script_never_finished(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        trackline.init(project="p")
        for i in range(1000):
            trackline.log({"i": i})
    """)
    assert proc.returncode == 0, proc.stderr
    meta = run_json(tmp_path)
    assert (meta["state"], meta["exit_code"]) == ("finished", 0)
    assert len(read_history(only_run_dir(tmp_path / "root"))) == 1000


def test_atexit_does_not_overwrite_failed(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        trackline.init(project="p")
        trackline.log({"a": 1})
        trackline.finish(exit_code=2)
        print("script ends normally")
    """)
    assert proc.returncode == 0 and "script ends normally" in proc.stdout
    meta = run_json(tmp_path)
    assert (meta["state"], meta["exit_code"]) == ("failed", 2)


def test_caught_exception_does_not_fail_the_run(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        trackline.init(project="p")
        try:
            raise ValueError("handled")
        except ValueError:
            pass
        trackline.log({"a": 1})
    """)
    assert proc.returncode == 0, proc.stderr
    assert run_json(tmp_path)["state"] == "finished"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_leaves_the_parent_run_alone(tmp_path):
    proc = run_script(tmp_path, """
        import os, sys
        import trackline
        trackline.init(project="p")
        trackline.log({"who": "parent"})
        pid = os.fork()
        if pid == 0:  # e.g. a DataLoader worker: its logs and its exit must not touch the run
            trackline.log({"who": "child"})
            trackline.finish()
            sys.exit(0)
        os.waitpid(pid, 0)
        print(trackline.run.state, flush=True)
        trackline.log({"who": "parent again"})
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "running"  # the child's exit did not finish the run
    assert "trackline" not in proc.stderr
    run_dir = only_run_dir(tmp_path / "root")
    assert [r["who"] for r in read_history(run_dir)] == ["parent", "parent again"]
    assert read_json(os.path.join(run_dir, "run.json"))["state"] == "finished"


# -- background flushing --------------------------------------------------------------------------------
WAIT_FOR_GO = """
    import os, sys, time
    import trackline
    run = trackline.init(project="p")
    for i in range(5):
        trackline.log({"loss": float(i)})
    print(run.dir, flush=True)
    deadline = time.time() + 30
    while not os.path.exists("go") and time.time() < deadline:
        time.sleep(0.01)
    trackline.log({"loss": 5.0})
"""


def test_lines_reach_disk_while_the_script_runs(tmp_path):
    proc = start_script(tmp_path, WAIT_FOR_GO)
    try:
        run_dir = proc.stdout.readline().strip()
        history = os.path.join(run_dir, "history.jsonl")
        started = time.monotonic()
        assert wait_for(lambda: count_lines(history) == 5, timeout=5), "no flush while running"
        assert time.monotonic() - started < 2.0  # FLUSH_INTERVAL is 0.5 s
        assert proc.poll() is None  # still running
        assert [r["loss"] for r in read_history(run_dir)] == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert wait_for(lambda: read_json(os.path.join(run_dir, "summary.json")).get("loss") == 4.0, 5)
        assert read_json(os.path.join(run_dir, "run.json"))["state"] == "running"
    finally:
        (tmp_path / "go").touch()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert [r["loss"] for r in read_history(run_dir)] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert read_json(os.path.join(run_dir, "run.json"))["state"] == "finished"


def test_flush_interval_env_override(tmp_path):
    proc = start_script(tmp_path, WAIT_FOR_GO, TRACKLINE_FLUSH_INTERVAL="30")
    try:
        run_dir = proc.stdout.readline().strip()
        history = os.path.join(run_dir, "history.jsonl")
        time.sleep(1.5)
        assert count_lines(history) == 0  # a 30 s interval has not elapsed
    finally:
        (tmp_path / "go").touch()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert count_lines(history) == 6  # finish() flushed


# -- crashes --------------------------------------------------------------------------------------------
LOG_FOREVER = """
    import time
    import trackline
    run = trackline.init(project="p", config={"kind": "endless"})
    print(run.dir, flush=True)
    i = 0
    while True:
        trackline.log({"i": i, "pad": "x" * (i % 97), "nested": {"v": i * 0.5}})
        i += 1
        if i % 200 == 0:
            time.sleep(0.001)
"""


@pytest.mark.parametrize("min_lines", [1, 5000, 40000])
def test_kill_9_keeps_every_flushed_line_exactly_once(tmp_path, min_lines):
    proc = start_script(tmp_path, LOG_FOREVER)
    try:
        run_dir = proc.stdout.readline().strip()
        history = os.path.join(run_dir, "history.jsonl")
        assert wait_for(lambda: count_lines(history) >= min_lines, timeout=30)
        with open(history, "rb") as f:
            before = f.read()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with open(history, "rb") as f:
        after = f.read()

    flushed = before[: before.rfind(b"\n") + 1]
    assert after.startswith(flushed)  # append-only: nothing flushed before the kill is lost
    rows, tail = split_history(after)  # every complete line parses
    assert len(rows) >= min_lines
    assert [r["_step"] for r in rows] == list(range(len(rows)))  # each line exactly once, in order
    assert all(r["i"] == r["_step"] and r["nested/v"] == r["i"] * 0.5 for r in rows)
    # Bytes after the last newline are a line still being written, never a committed line; the
    # client writes whole lines, so at most the beginning of the next line can be there.
    assert tail == b"" or tail.startswith(b'{"_step": %d, ' % len(rows))

    meta = read_json(os.path.join(run_dir, "run.json"))
    assert meta["state"] == "running"  # a client never writes "crashed": the daemon infers it
    assert read_json(os.path.join(run_dir, "config.json")) == {"kind": "endless"}
    # history is written before summary on each flush: the summary never runs ahead of it
    assert read_json(os.path.join(run_dir, "summary.json")).get("_step", -1) <= len(rows) - 1


def test_small_files_are_replaced_atomically(tmp_path):
    proc = start_script(tmp_path, """
        import time
        import trackline
        run = trackline.init(project="p", allow_val_change=True)
        print(run.dir, flush=True)
        deadline = time.time() + 3
        i = 0
        while time.time() < deadline:
            run.config.value = i
            run.config.blob = "y" * (i % 5000)
            run.summary["value"] = i
            run.summary["blob"] = "z" * (i % 5000)
            run.name = "name-%d-%s" % (i, "n" * (i % 3000))
            trackline.log({"i": i})
            i += 1
    """, TRACKLINE_FLUSH_INTERVAL="0.005")
    run_dir = proc.stdout.readline().strip()
    seen = {"run.json": set(), "config.json": set(), "summary.json": set()}
    reads = 0
    while proc.poll() is None:
        for name, values in seen.items():
            with open(os.path.join(run_dir, name), "rb") as f:
                data = f.read()
            obj = json.loads(data.decode("utf-8"))  # never empty, never partial
            reads += 1
            values.add(obj.get("value", obj.get("name")))
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert reads > 100
    for name, values in seen.items():
        assert len(values) > 3, name  # the files really changed under the reader
    assert not [n for n in os.listdir(run_dir) if n.startswith(".")]  # temp files renamed away
