"""Console capture: stdout/stderr tee'd to console.log with timestamps, output unchanged for the
user, streams restored at finish, off switches, buffered writes."""

import calendar
import os
import re
import subprocess
import sys
import time

import pytest

import trackline
from conftest import only_run_dir, run_script, subprocess_env, write_script

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (stdout|stderr) (.*)$")


def _console(tmp_path):
    path = os.path.join(only_run_dir(tmp_path / "root"), "console.log")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    out = []
    for raw in data.decode("utf-8").split("\n")[:-1]:
        m = LINE.match(raw)
        assert m, raw
        t = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
        out.append((t + int(m.group(1)[20:]) / 1000.0, m.group(2), m.group(3)))
    return out


SCRIPT = """
    import sys, time
    import trackline
    settings = eval(sys.argv[1]) if len(sys.argv) > 1 else None
    print("before init")
    run = trackline.init(project="p", settings=settings)
    print("epoch 1 done")
    sys.stderr.write("warn: something\\n")
    print("tab\\tand ünïcödé ✓")
    print("a", "b", sep="-", end="")
    print(" c")
    print()
    sys.stdout.write("no newline yet")
    sys.stdout.flush()
    time.sleep(0.7)
    sys.stdout.write(" ... now\\n")
    for i in range(5):
        sys.stderr.write("\\rprogress %d/5" % (i + 1))
    sys.stderr.write("\\n")
    print("STREAMS", type(sys.stdout).__name__, sys.stdout.isatty(), sys.stdout.fileno(),
          sys.stderr.fileno(), sys.stdout.encoding)
    trackline.finish()
    print("after finish", sys.stdout is sys.__stdout__, sys.stderr is sys.__stderr__)
"""


def test_lines_are_captured_with_timestamps_and_output_is_unchanged(tmp_path):
    start = time.time()
    proc = run_script(tmp_path, SCRIPT)
    end = time.time()
    assert proc.returncode == 0, proc.stderr
    # what the user sees is exactly what the script wrote
    assert proc.stdout.startswith(
        "before init\nepoch 1 done\ntab\tand ünïcödé ✓\na-b c\n\nno newline yet ... now\nSTREAMS "
    )
    assert proc.stdout.endswith("after finish True True\n")
    assert "STREAMS Tee False 1 2 utf-8" in proc.stdout  # fileno/isatty/encoding of the originals
    # (text mode turns each \r into \n)
    assert proc.stderr == "warn: something\n" + "".join("\nprogress %d/5" % i for i in range(1, 6)) + "\n"
    lines = _console(tmp_path)
    assert [(s, text) for _, s, text in lines] == [
        ("stdout", "epoch 1 done"),
        ("stderr", "warn: something"),
        ("stdout", "tab\tand ünïcödé ✓"),
        ("stdout", "a-b c"),
        ("stdout", ""),
        ("stdout", "no newline yet ... now"),
        ("stderr", "progress 5/5"),  # what the terminal finally shows
        ("stdout", lines[-1][2]),
    ]
    assert lines[-1][2].startswith("STREAMS Tee")
    times = [t for t, _, _ in lines]
    assert start - 1 <= times[0] <= times[-1] <= end + 1
    assert times == sorted(times)
    # a line's time is when it began: "no newline yet" was written 0.7 s before its end
    assert times[6] - times[5] >= 0.6


def test_tty_is_preserved(tmp_path):
    pty = pytest.importorskip("pty")
    path = write_script(tmp_path, """
        import sys
        import trackline
        trackline.init(project="p")
        print("ISATTY", sys.stdout.isatty(), sys.stderr.isatty())
    """)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(path)], cwd=str(tmp_path), stdout=slave,
                            stderr=slave, env=subprocess_env(tmp_path / "root"))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=30)
    os.close(master)
    assert b"ISATTY True True" in out
    assert _console(tmp_path)[0][2] == "ISATTY True True"


def test_uncaught_traceback_is_captured(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        trackline.init(project="p")
        print("working")
        raise ValueError("boom")
    """)
    assert proc.returncode == 1
    assert "ValueError: boom" in proc.stderr
    lines = _console(tmp_path)
    assert lines[0][1:] == ("stdout", "working")
    assert ("stderr", "Traceback (most recent call last):") in [l[1:] for l in lines]
    assert lines[-1][1:] == ("stderr", "ValueError: boom")


@pytest.mark.parametrize("args, env", [
    ([], {"TRACKLINE_CONSOLE": "off"}),
    (['{"console": "off"}'], {}),
])
def test_off_switch(tmp_path, args, env):
    proc = run_script(tmp_path, SCRIPT, args, **env)
    assert proc.returncode == 0, proc.stderr
    assert "STREAMS TextIOWrapper" in proc.stdout  # sys.stdout untouched
    assert _console(tmp_path) is None


def test_buffered_until_the_flush_cycle(tmp_path, monkeypatch, capsys):
    """print() does no I/O of trackline's own: lines reach console.log at the flush cycle."""
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "60")
    run = trackline.init(project="p")
    path = os.path.join(run.dir, "console.log")
    for i in range(2000):
        print("line", i)
    assert os.path.getsize(path) == 0
    run._extras.console.flush()  # what the flusher thread does each cycle
    assert os.path.getsize(path) > 0
    print("last")
    trackline.finish()
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 2001 and lines[0].endswith(" stdout line 0") and lines[-1].endswith(" last")
    out = capsys.readouterr().out
    assert out.startswith("line 0\nline 1\n") and out.endswith("line 1999\nlast\n")


def test_streams_replaced_by_the_script_are_left_alone(tmp_path):
    proc = run_script(tmp_path, """
        import io, sys
        import trackline
        trackline.init(project="p")
        print("captured")
        mine = io.StringIO()
        sys.stdout = mine
        trackline.finish()
        sys.stdout = sys.__stdout__
        print("REPLACED STAYS", mine is not None)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "REPLACED STAYS True" in proc.stdout
    assert [l[2] for l in _console(tmp_path)] == ["captured"]


def test_forked_child_output_is_not_the_runs(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    proc = run_script(tmp_path, """
        import os, sys
        import trackline
        trackline.init(project="p")
        print("parent", flush=True)
        pid = os.fork()
        if pid == 0:
            print("child", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("parent again")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "child" in proc.stdout
    assert [l[2] for l in _console(tmp_path)] == ["parent", "parent again"]
