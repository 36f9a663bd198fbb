"""Remote mode against the real daemon binary over 127.0.0.1: a daemon killed with SIGKILL and
restarted mid-run, a daemon that comes up after the run started, a wrong token.

The binary is $TRACKLINE_BIN, else target/debug/trackline of this repository (CI builds it
first: `TRACKLINE_SKIP_WEB=1 cargo build -p trackline`)."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO_DIR, count_lines, only_run_dir, run_script, start_script, wait_for

BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")

pytestmark = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason="daemon binary %s not found: build it with `TRACKLINE_SKIP_WEB=1 cargo build -p "
           "trackline` or set TRACKLINE_BIN" % BIN,
)

TOKEN = "tl_python_client_test_token"


class Daemon:
    """`trackline serve --dir DIR --port PORT` as a child process."""

    def __init__(self, data_dir, port=0):
        self.dir = str(data_dir)
        os.makedirs(os.path.join(self.dir, ".trackline"), exist_ok=True)
        key = os.path.join(self.dir, ".trackline", "api_key")
        if not os.path.exists(key):
            with open(key, "w") as f:
                f.write(TOKEN)
            os.chmod(key, 0o600)
        self.proc = None
        self.start(port)

    def start(self, port):
        env = dict(os.environ, TRACKLINE_LOG="warn")
        env.pop("TRACKLINE_DIR", None)
        deadline = time.monotonic() + 20
        while True:  # the port of a killed daemon may take a moment to be free again
            self.proc = subprocess.Popen(
                [BIN, "serve", "--dir", self.dir, "--port", str(port)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
            )
            line = self.proc.stdout.readline()
            m = re.search(r"at (http://[^/\s]+)/", line)
            if m:
                self.url = m.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return
            self.proc.wait(10)
            err = self.proc.stderr.read()
            if "in use" not in err or time.monotonic() > deadline:
                raise RuntimeError("daemon did not start: %r %r" % (line, err))
            time.sleep(0.2)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.proc.stdout.close()
        self.proc.stderr.close()

    def file(self, project, run, name):
        try:
            with open(os.path.join(self.dir, project, run, name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read().decode())


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path / "served")
    yield d
    d.stop()


STREAM = """
    import sys, time
    import trackline
    n = int(sys.argv[1])
    run = trackline.init(project="remote", config={"lr": 0.01})
    print("RUN", run.dir, flush=True)
    for i in range(n):
        trackline.log({"Train Loss": 1.0 / (i + 1), "i": i})
        if i % 20 == 0:
            time.sleep(0.02)  # ~2 s for 2,000 steps
        if i % 500 == 0:
            print("step", i)
    trackline.finish()
"""


def _env(url, token=TOKEN, **extra):
    env = dict(TRACKLINE_URL=url, TRACKLINE_API_KEY=token, TRACKLINE_SYSTEM_INTERVAL="0.5",
               TRACKLINE_UPLOAD_TIMEOUT="30")
    env.update(extra)
    return env


def _local(run_dir, name):
    with open(os.path.join(run_dir, name), "rb") as f:
        return f.read()


def _steps(data):
    return [json.loads(line)["_step"] for line in data.decode("utf-8").splitlines()]


def test_daemon_killed_and_restarted_mid_run_loses_and_duplicates_nothing(tmp_path, daemon):
    proc = start_script(tmp_path, STREAM, ["2000"], **_env(daemon.url))
    run_dir = proc.stdout.readline().split()[1]
    run_id = os.path.basename(run_dir)
    # some steps reached the daemon, then it dies outright
    assert wait_for(lambda: count_lines(os.path.join(daemon.dir, "remote", run_id,
                                                     "history.jsonl")) >= 200, 30)
    daemon.kill()
    time.sleep(1.0)  # the client logs on, and fails to upload, while the daemon is gone
    assert proc.poll() is None, "the script should still be running"
    daemon.start(daemon.port)  # same port, same data directory
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "cannot reach" in err  # the client did notice the daemon was gone
    assert "trackline sync" not in err, err  # everything arrived before finish() gave up
    local = _local(run_dir, "history.jsonl")
    assert _steps(local) == list(range(2000))
    remote = daemon.file("remote", run_id, "history.jsonl")
    assert remote == local  # every point exactly once, in order
    assert daemon.file("remote", run_id, "console.log") == _local(run_dir, "console.log")
    assert daemon.file("remote", run_id, "system.jsonl") == _local(run_dir, "system.jsonl")
    meta = json.loads(daemon.file("remote", run_id, "run.json"))
    assert meta["state"] == "finished" and meta["id"] == run_id
    assert json.loads(daemon.file("remote", run_id, "config.json")) == {"lr": 0.01}
    # and the daemon serves it
    info = wait_for(lambda: _run_info(daemon, run_id), 15)
    assert info and info["state"] == "finished"


def _run_info(daemon, run_id):
    try:
        info = daemon.get("/api/projects/remote/runs/%s" % run_id)
    except Exception:
        return None
    return info if info.get("state") == "finished" else None


def test_daemon_down_at_start_then_up(tmp_path, daemon):
    port = daemon.port
    daemon.stop()
    proc = start_script(tmp_path, STREAM, ["1000"], **_env("http://127.0.0.1:%d" % port))
    run_dir = proc.stdout.readline().split()[1]
    run_id = os.path.basename(run_dir)
    assert wait_for(lambda: count_lines(os.path.join(run_dir, "history.jsonl")) >= 100, 30)
    time.sleep(1.0)  # the client tries, and fails, to upload
    daemon.start(port)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "cannot reach" in err  # said once, while the daemon was down
    assert daemon.file("remote", run_id, "history.jsonl") == _local(run_dir, "history.jsonl")
    assert _steps(daemon.file("remote", run_id, "history.jsonl")) == list(range(1000))
    assert json.loads(daemon.file("remote", run_id, "run.json"))["state"] == "finished"


def test_wrong_token_is_one_clear_error_and_the_local_copy_is_intact(tmp_path, daemon):
    proc = run_script(tmp_path, STREAM, ["500"], **_env(daemon.url, token="tl_wrong"))
    assert proc.returncode == 0, proc.stderr
    ours = [line for line in proc.stderr.splitlines() if line.startswith("trackline:")]
    assert len(ours) == 1, proc.stderr
    assert "refused the API key" in ours[0] and "api_key" in ours[0]
    run_dir = only_run_dir(tmp_path / "root")
    assert "trackline sync %s" % run_dir in ours[0]
    assert _steps(_local(run_dir, "history.jsonl")) == list(range(500))
    assert json.loads(_local(run_dir, "run.json"))["state"] == "finished"
    assert not os.path.exists(os.path.join(daemon.dir, "remote"))  # nothing was written there


def test_offline_run_uploaded_later_with_trackline_sync(tmp_path, daemon):
    """What the finish() message recommends works: `trackline sync <run dir>`."""
    proc = run_script(tmp_path, STREAM, ["300"], TRACKLINE_SYSTEM_INTERVAL="0.5")
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(tmp_path / "root")
    run_id = os.path.basename(run_dir)
    out = subprocess.run([BIN, "sync", run_dir], env=dict(os.environ, **_env(daemon.url)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert daemon.file("remote", run_id, "history.jsonl") == _local(run_dir, "history.jsonl")
    # a client resuming that run online continues where sync left off (409 -> lengths)
    code = """
        import trackline
        trackline.init(project="remote", id=%r)
        for i in range(50):
            trackline.log({"i": i})
        trackline.finish()
    """ % run_id
    proc = run_script(tmp_path, code, **_env(daemon.url, TRACKLINE_CONSOLE="off"))
    assert proc.returncode == 0, proc.stderr
    assert daemon.file("remote", run_id, "history.jsonl") == _local(run_dir, "history.jsonl")
    assert _steps(daemon.file("remote", run_id, "history.jsonl")) == list(range(350))


def test_saved_files_media_metrics_and_alerts_reach_the_daemon(tmp_path, daemon):
    proc = run_script(tmp_path, """
        import time
        import trackline
        run = trackline.init(project="remote")
        print("RUN", run.dir, flush=True)
        with open("model.bin", "wb") as f:
            f.write(bytes(range(256)) * 9000)  # 2.3 MB: three chunks
        run.save("model.bin", policy="now")
        run.define_metric("loss", summary="min")
        for i in range(200):
            trackline.log({"loss": 1.0 / (i + 1)})
        trackline.log({"table": trackline.Table(columns=["a"], data=[[1], [2]])})
        run.alert("done", "finished training")
        trackline.finish()
    """, **_env(daemon.url))
    assert proc.returncode == 0, proc.stderr
    assert "trackline:" not in proc.stderr, proc.stderr
    run_dir = proc.stdout.split()[1]
    run_id = os.path.basename(run_dir)
    uploaded = []
    for top in ("files", "media"):
        for folder, _, names in os.walk(os.path.join(run_dir, top)):
            for name in names:
                rel = os.path.relpath(os.path.join(folder, name), run_dir)
                uploaded.append(rel)
                assert daemon.file("remote", run_id, rel) == _local(run_dir, rel), rel
    assert "files/model.bin" in [u.replace(os.sep, "/") for u in uploaded]
    assert any(u.startswith("media") for u in uploaded), uploaded
    assert daemon.file("remote", run_id, "alerts.jsonl") == _local(run_dir, "alerts.jsonl")
    assert json.loads(daemon.file("remote", run_id, "metrics.json")) == \
        json.loads(_local(run_dir, "metrics.json"))
    assert daemon.file("remote", run_id, "history.jsonl") == _local(run_dir, "history.jsonl")
    # The daemon indexed the logged table from the streamed rows, and serves its file.
    media = daemon.get("/api/projects/remote/runs/%s/media" % run_id)
    assert [(m["key"], m["kind"], m["count"]) for m in media] == [("table", "table", 1)]
    entry = daemon.get("/api/projects/remote/runs/%s/media/entries?key=table" % run_id)[0]
    path = entry["value"]["path"]
    with urllib.request.urlopen("%s/api/projects/remote/runs/%s/files/%s"
                                % (daemon.url, run_id, path), timeout=10) as r:
        assert r.read() == _local(run_dir, path)
