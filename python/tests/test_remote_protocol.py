"""Remote mode against an in-test ingest server that follows docs/api.md ("Remote ingest") to the
letter, and can misbehave on purpose: lost answers, 5xx, hangs, refusals. Scripts run in real
subprocesses; the server listens on 127.0.0.1. (test_remote_daemon.py does the same against the
real daemon binary.)"""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import count_lines, only_run_dir, read_json, run_script, start_script, wait_for

TOKEN = "test-token-123"
APPENDABLE = ("history.jsonl", "system.jsonl", "console.log", "alerts.jsonl")
REPLACEABLE = ("run.json", "config.json", "summary.json", "metrics.json")


class FakeDaemon:
    """The ingest endpoint of the daemon, in memory. ``misbehave(n)`` is asked before each request
    and may return "drop" (apply, then close without answering), "500", "hang", "429" or "507"
    (refuse with ``Retry-After: 1``, as a rate limit or a full disk does) or None."""

    def __init__(self, misbehave=None, port=0, replaceable=REPLACEABLE, appendable=APPENDABLE,
                 file_endpoint=True, prefix=""):
        self.files = {}  # (project, run, name) -> bytes
        self.requests = []  # (status, body size, parsed body or None)
        self.times = []  # time.monotonic() of each request, as it arrives
        self.lock = threading.Lock()
        self.misbehave = misbehave or (lambda n: None)
        self.hang = threading.Event()
        self.replaceable, self.appendable = replaceable, appendable
        self.file_endpoint = file_endpoint
        self.prefix = prefix  # served under a base path, as behind a reverse proxy
        self.uploads = {}  # (project, run, "files/...") -> bytes
        self.file_requests = []  # (status, path, offset, size)
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                daemon._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.hang.set()
        self.server.shutdown()
        self.server.server_close()

    def data(self, name, run=None):
        with self.lock:
            found = {k: v for k, v in self.files.items() if k[2] == name and run in (None, k[1])}
        assert len(found) <= 1, list(found)
        return next(iter(found.values()), b"")

    def _answer(self, h, status, obj, headers=None):
        body = json.dumps(obj).encode()
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h):
        raw = h.rfile.read(int(h.headers.get("Content-Length", 0)))
        if self.prefix:
            if not h.path.startswith(self.prefix + "/"):
                return self._answer(h, 404, {"error": {"code": "not_found", "message": h.path}})
            h.path = h.path[len(self.prefix):]
        with self.lock:
            n = len(self.requests)
            self.times.append(time.monotonic())
            action = self.misbehave(n)
        if action == "hang":
            self.hang.wait(60)
            return
        if action == "500":
            self.requests.append((500, len(raw), None))
            return self._answer(h, 500, {"error": {"code": "internal", "message": "oops"}})
        if action in ("429", "507"):
            status = int(action)
            code = "rate_limited" if status == 429 else "insufficient_storage"
            self.requests.append((status, len(raw), None))
            return self._answer(h, status, {"error": {"code": code, "message": "later"}},
                                {"Retry-After": "1"})
        if h.path.startswith("/api/ingest/v1/file?") and self.file_endpoint:
            return self._file(h, raw)
        if h.path != "/api/ingest/v1/batch":
            return self._answer(h, 404, {"error": {"code": "not_found", "message": h.path}})
        if h.headers.get("Authorization") != "Bearer " + TOKEN:
            self.requests.append((401, len(raw), None))
            return self._answer(h, 401, {"error": {"code": "unauthorized", "message": "token"}})
        if len(raw) > 1 << 20:
            self.requests.append((413, len(raw), None))
            return self._answer(h, 413, {"error": {"code": "too_large", "message": "1 MiB"}})
        batch = json.loads(raw.decode("utf-8"))  # NaN/Infinity literals are allowed
        for name, value in batch.get("files", {}).items():
            assert name in REPLACEABLE and isinstance(value, dict), name
            if name not in self.replaceable:  # an older daemon
                self.requests.append((400, len(raw), None))
                return self._answer(h, 400, {"error": {"code": "bad_request",
                                                       "message": "'%s' may not be replaced" % name}})
        for name, a in batch.get("append", {}).items():
            assert name in APPENDABLE and a["data"].endswith("\n"), (name, a["data"][-50:])
            if name not in self.appendable:
                self.requests.append((400, len(raw), None))
                return self._answer(h, 400, {"error": {
                    "code": "bad_request", "message": "'%s' may not be appended to" % name}})
        key = (batch["project"], batch["run"])
        with self.lock:
            lengths, conflict = {}, False
            for name, a in batch.get("append", {}).items():
                have = self.files.get(key + (name,), b"")
                data, offset = a["data"].encode("utf-8"), a["offset"]
                if offset <= len(have) <= offset + len(data) and have[offset:] == data[:len(have) - offset]:
                    self.files[key + (name,)] = have + data[len(have) - offset:]
                    lengths[name] = offset + len(data)
                else:
                    conflict = True
                    lengths[name] = len(have)
            if conflict:
                for name in APPENDABLE:
                    lengths.setdefault(name, len(self.files.get(key + (name,), b"")))
                self.requests.append((409, len(raw), batch))
                return self._answer(h, 409, {"error": {"code": "offset_mismatch", "message": "x"},
                                             "lengths": lengths})
            for name, value in batch.get("files", {}).items():
                self.files[key + (name,)] = json.dumps(value).encode()
            self.requests.append((200, len(raw), batch))
        if action == "drop":  # applied, but the answer is lost
            h.close_connection = True
            h.connection.shutdown(2)
            return
        self._answer(h, 200, {"ok": True, "lengths": lengths})


    def _file(self, h, raw):
        from urllib.parse import parse_qs, urlsplit

        q = {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
        assert q["path"].split("/")[0] in ("files", "media") and ".." not in q["path"], q
        assert len(raw) <= 1 << 20
        key, offset = (q["project"], q["run"], q["path"]), int(q["offset"])
        with self.lock:
            have = self.uploads.get(key, b"")
            if offset <= len(have) <= offset + len(raw) and have[offset:] == raw[:len(have) - offset]:
                self.uploads[key] = have + raw[len(have) - offset:]
                self.file_requests.append((200, q["path"], offset, len(raw)))
                return self._answer(h, 200, {"ok": True, "length": offset + len(raw)})
            self.file_requests.append((409, q["path"], offset, len(raw)))
            return self._answer(h, 409, {"error": {"code": "offset_mismatch", "message": "x"},
                                         "length": len(have)})


@pytest.fixture
def daemon():
    d = FakeDaemon()
    yield d
    d.close()


STREAM = """
    import math, sys, time
    import trackline
    n = int(sys.argv[1])
    run = trackline.init(project="remote", config={"lr": 0.1, "bad": float("nan")})
    for i in range(n):
        trackline.log({"i": i, "loss": 1.0 / (i + 1), "inf": math.inf if i % 7 == 0 else 0.0})
        if i % 500 == 0:
            print("step", i, "ünï", flush=True)
        if i % 100 == 0:
            time.sleep(0.05)
    run.summary["best"] = float("-inf")
    trackline.finish()
"""


def _env(daemon, **extra):
    env = dict(TRACKLINE_URL=daemon.url, TRACKLINE_API_KEY=TOKEN, TRACKLINE_SYSTEM_INTERVAL="0.2",
               TRACKLINE_UPLOAD_TIMEOUT="20")
    env.update(extra)
    return env


def _local(tmp_path, name):
    with open(os.path.join(only_run_dir(tmp_path / "root"), *name.split("/")), "rb") as f:
        return f.read()


def _assert_same_copy(tmp_path, daemon):
    run_dir = only_run_dir(tmp_path / "root")
    run_id = os.path.basename(run_dir)
    for name in APPENDABLE:
        if not os.path.exists(os.path.join(run_dir, name)):
            assert name == "alerts.jsonl" and daemon.data(name, run_id) == b""
            continue
        local = _local(tmp_path, name)
        assert local, name
        assert daemon.data(name, run_id) == local, name  # every byte exactly once, in order
    for name in REPLACEABLE:
        if not os.path.exists(os.path.join(run_dir, name)):
            assert name == "metrics.json" and daemon.data(name, run_id) == b""
            continue
        assert json.loads(daemon.data(name, run_id)) == read_json(os.path.join(run_dir, name)) or \
            name == "summary.json" and _same_with_nan(daemon.data(name, run_id), run_dir)


def _same_with_nan(remote, run_dir):
    return json.dumps(json.loads(remote), sort_keys=True) == json.dumps(
        read_json(os.path.join(run_dir, "summary.json")), sort_keys=True)


def test_streams_every_file_byte_for_byte(tmp_path, daemon):
    proc = run_script(tmp_path, STREAM, ["3000"], **_env(daemon))
    assert proc.returncode == 0, proc.stderr
    assert "trackline:" not in proc.stderr, proc.stderr
    _assert_same_copy(tmp_path, daemon)
    run_dir = only_run_dir(tmp_path / "root")
    assert json.loads(daemon.data("run.json"))["state"] == "finished"
    history = daemon.data("history.jsonl").decode().splitlines()
    assert [json.loads(line)["_step"] for line in history] == list(range(3000))
    config = json.loads(daemon.data("config.json"))
    assert config["lr"] == 0.1 and config["bad"] != config["bad"]  # NaN sent as a bare literal
    assert json.loads(daemon.data("summary.json"))["best"] == float("-inf")
    assert "step 2500 ünï" in daemon.data("console.log").decode("utf-8")
    # streamed, not sent at the end: several batches, each within the 1 MiB cap
    assert len(daemon.requests) >= 3
    assert all(status == 200 and size <= 1 << 20 for status, size, _ in daemon.requests)
    assert os.path.isfile(os.path.join(run_dir, "history.jsonl"))  # the local spool stays


def test_large_backlog_is_split_into_batches_under_one_mebibyte(tmp_path, daemon):
    # ~6 MB logged in well under a flush interval's worth of batches; rows full of characters
    # that JSON escapes, so a full-size batch comes out over 1 MiB and must be rebuilt smaller.
    code = """
        import trackline
        trackline.init(project="big")
        for i in range(30000):
            trackline.log({"i": i, "text": "x\\"y" * 40, "v": [i, i + 1, i + 2]})
        trackline.finish()
    """
    proc = run_script(tmp_path, code, **_env(daemon, TRACKLINE_CONSOLE="off"))
    assert proc.returncode == 0, proc.stderr
    local = _local(tmp_path, "history.jsonl")
    assert len(local) > 5 * (1 << 20)
    assert daemon.data("history.jsonl") == local
    sizes = [size for status, size, _ in daemon.requests]
    assert max(sizes) <= 1 << 20 and len(sizes) >= 6


def test_lost_answers_and_server_errors_never_duplicate(tmp_path):
    # Answers are lost after the batch was applied; some requests fail with 500.
    def misbehave(n):
        return "drop" if n in (0, 2, 5, 6) else "500" if n in (3, 8) else None

    d = FakeDaemon(misbehave)
    try:
        proc = run_script(tmp_path, STREAM, ["2000"], **_env(d))
        assert proc.returncode == 0, proc.stderr
        _assert_same_copy(tmp_path, d)
        assert any(status == 500 for status, _, _ in d.requests)
    finally:
        d.close()


def test_offset_mismatch_resumes_from_the_daemons_lengths(tmp_path, daemon):
    # First run writes locally only (offline), then is resumed online: the daemon already holds a
    # prefix of its history (uploaded earlier), so the client's first batch at offset 0 conflicts.
    # The daemon's copy (~1.6 MB) is longer than one batch (768 KiB): that first batch conflicts.
    code = """
        import sys
        import trackline
        run = trackline.init(project="p", id="resumeme", mode=sys.argv[1])
        for i in range(int(sys.argv[2])):
            trackline.log({"i": i, "pad": "x" * 100})
        trackline.finish()
    """
    proc = run_script(tmp_path, code, ["offline", "12000"], **_env(daemon))
    assert proc.returncode == 0, proc.stderr
    assert daemon.requests == []  # offline mode: nothing sent even with TRACKLINE_URL set
    daemon.files[("p", "resumeme", "history.jsonl")] = _local(tmp_path, "history.jsonl")
    proc = run_script(tmp_path, code, ["online", "200"], **_env(daemon, TRACKLINE_CONSOLE="off"))
    assert proc.returncode == 0, proc.stderr
    assert daemon.requests[0][0] == 409
    assert all(status == 200 for status, _, _ in daemon.requests[1:])
    assert daemon.data("history.jsonl") == _local(tmp_path, "history.jsonl")
    steps = [json.loads(x)["_step"] for x in daemon.data("history.jsonl").splitlines()]
    assert steps == list(range(12200))


def test_wrong_token_says_so_once_and_keeps_the_run_local(tmp_path, daemon):
    proc = run_script(tmp_path, STREAM, ["1500"], **_env(daemon, TRACKLINE_API_KEY="wrong"))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("trackline:")]
    assert len(lines) == 1, proc.stderr
    assert "refused the API key" in lines[0] and "TRACKLINE_API_KEY" in lines[0]
    assert "trackline sync" in lines[0]
    assert [status for status, _, _ in daemon.requests] == [401]  # no retry storm
    rows = _local(tmp_path, "history.jsonl").splitlines()
    assert len(rows) == 1500
    assert read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))["state"] == "finished"


def test_unreachable_daemon_never_blocks_and_finish_is_bounded(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    code = """
        import time
        import trackline
        trackline.init(project="p")
        t = time.perf_counter()
        for i in range(20000):
            trackline.log({"loss": 1.0 / (i + 1)})
        print("LOOP %.3f" % (time.perf_counter() - t))
        t = time.perf_counter()
        trackline.finish()
        print("FINISH %.3f" % (time.perf_counter() - t))
    """
    proc = run_script(tmp_path, code, TRACKLINE_URL="http://127.0.0.1:%d" % port,
                      TRACKLINE_API_KEY=TOKEN, TRACKLINE_UPLOAD_TIMEOUT="1.5")
    assert proc.returncode == 0, proc.stderr
    out = dict(line.split() for line in proc.stdout.splitlines())
    assert float(out["LOOP"]) < 5
    assert 1.0 < float(out["FINISH"]) < 5
    run_dir = only_run_dir(tmp_path / "root")
    tail = proc.stderr.strip().splitlines()[-1]
    assert tail.startswith("trackline: ") and "trackline sync %s" % run_dir in tail, proc.stderr
    assert len(_local(tmp_path, "history.jsonl").splitlines()) == 20000


def test_hanging_daemon_does_not_slow_logging(tmp_path):
    d = FakeDaemon(lambda n: "hang")
    try:
        code = """
            import time
            import trackline
            trackline.init(project="p")
            worst = 0.0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 2.0:
                t = time.perf_counter()
                trackline.log({"loss": 0.5})
                worst = max(worst, time.perf_counter() - t)
            print("WORST %.4f" % worst)
            t = time.perf_counter()
            trackline.finish()
            print("FINISH %.3f" % (time.perf_counter() - t))
        """
        proc = run_script(tmp_path, code, **_env(d, TRACKLINE_UPLOAD_TIMEOUT="1"))
        assert proc.returncode == 0, proc.stderr
        out = dict(line.split() for line in proc.stdout.splitlines())
        assert float(out["WORST"]) < 0.5  # a hung request never holds up log()
        assert float(out["FINISH"]) < 5
        assert "trackline sync" in proc.stderr
    finally:
        d.close()


def test_daemon_coming_up_late_gets_everything(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = start_script(tmp_path, """
        import time
        import trackline
        trackline.init(project="late")
        for i in range(3000):
            trackline.log({"i": i})
            if i % 100 == 0:
                time.sleep(0.05)
        trackline.finish()
    """, TRACKLINE_URL="http://127.0.0.1:%d" % port, TRACKLINE_API_KEY=TOKEN,
        TRACKLINE_UPLOAD_TIMEOUT="20")
    root = tmp_path / "root"
    assert wait_for(lambda: root.exists() and count_lines(os.path.join(
        only_run_dir(root), "history.jsonl")) > 200, 30)
    time.sleep(0.5)  # the client has failed to connect by now
    d = FakeDaemon(port=port)
    try:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "cannot reach" in err  # told once, while it was down
        assert "trackline sync" not in err  # ... and it all arrived in the end
        assert d.data("history.jsonl") == _local(tmp_path, "history.jsonl")
        assert json.loads(d.data("run.json"))["state"] == "finished"
    finally:
        d.close()


FILES_SCRIPT = """
    import os, sys, time
    import trackline
    run = trackline.init(project="files")
    blob = bytes(range(256)) * (10 * 1024 + 7)  # 2.6 MB: three chunks
    with open("model.bin", "wb") as f:
        f.write(blob)
    with open("notes.txt", "w") as f:
        f.write("first version\\n")
    open("empty.txt", "w").close()
    run.save("model.bin", policy="now")
    run.save("notes.txt", policy="live")
    run.save("empty.txt", policy="now")
    run.define_metric("loss", summary="min")
    for i in range(300):
        trackline.log({"loss": 1.0 / (i + 1)})
        if i % 100 == 0:
            time.sleep(0.3)
    with open("notes.txt", "a") as f:
        f.write("more\\n")  # grows: the daemon's copy grows too
    run.alert("done", "training finished")
    trackline.finish()
"""


def test_saved_files_metrics_and_alerts_are_uploaded(tmp_path, daemon):
    proc = run_script(tmp_path, FILES_SCRIPT, **_env(daemon))
    assert proc.returncode == 0, proc.stderr
    assert "trackline:" not in proc.stderr, proc.stderr
    run_dir = only_run_dir(tmp_path / "root")
    run_id = os.path.basename(run_dir)
    for rel in ("files/model.bin", "files/notes.txt", "files/empty.txt"):
        with open(os.path.join(run_dir, *rel.split("/")), "rb") as f:
            assert daemon.uploads[("files", run_id, rel)] == f.read(), rel
    assert daemon.uploads[("files", run_id, "files/notes.txt")] == b"first version\nmore\n"
    sizes = [size for status, path, _, size in daemon.file_requests if path == "files/model.bin"]
    assert max(sizes) <= 1 << 20 and sum(sizes) >= len(_local(tmp_path, "files/model.bin"))
    assert json.loads(daemon.data("metrics.json")) == read_json(os.path.join(run_dir, "metrics.json"))
    assert daemon.data("alerts.jsonl") == _local(tmp_path, "alerts.jsonl")
    assert daemon.data("history.jsonl") == _local(tmp_path, "history.jsonl")


def test_an_older_daemon_gets_what_it_accepts(tmp_path):
    d = FakeDaemon(replaceable=REPLACEABLE[:3], appendable=APPENDABLE[:3], file_endpoint=False)
    try:
        proc = run_script(tmp_path, FILES_SCRIPT, **_env(d))
        assert proc.returncode == 0, proc.stderr
        ours = [l for l in proc.stderr.splitlines() if l.startswith("trackline:")]
        assert len(ours) == 3, proc.stderr  # metrics.json, alerts.jsonl, files: one line each
        assert any("metrics.json" in l for l in ours) and any("alerts.jsonl" in l for l in ours)
        assert any("does not take files" in l for l in ours)
        assert "trackline sync" not in proc.stderr
        assert d.data("history.jsonl") == _local(tmp_path, "history.jsonl")
        assert json.loads(d.data("run.json"))["state"] == "finished"
    finally:
        d.close()


def test_urllib_is_used_when_a_proxy_is_configured(tmp_path, daemon):
    # A proxy that does not exist, bypassed for 127.0.0.1: only urllib.request honours no_proxy,
    # so the data arriving proves that path works too.
    proc = run_script(tmp_path, STREAM, ["500"], **_env(
        daemon, http_proxy="http://127.0.0.1:9", no_proxy="127.0.0.1,localhost"))
    assert proc.returncode == 0, proc.stderr
    assert "trackline:" not in proc.stderr, proc.stderr
    _assert_same_copy(tmp_path, daemon)


def test_plain_http_answers_are_parsed_strictly():
    from trackline._remote import _parse_answer, _plain_target, _Retry

    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
    assert _parse_answer(ok + b'{"ok": true}'[:5], complete=False) is None  # wait for the rest
    assert _parse_answer(ok + b'{"ok":true}', complete=False)[:2] == (200, b'{"ok":true}')
    chunked = b"HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n"
    assert _parse_answer(chunked, complete=False)[:2] == (409, b'{"a": 1}')
    assert _parse_answer(chunked[:-9], complete=False) is None
    assert _parse_answer(b"HTTP/1.1 500 X\r\n\r\nbody", complete=True)[:2] == (500, b"body")
    full = b"HTTP/1.1 507 Insufficient Storage\r\nRetry-After:  7 \r\nContent-Length: 0\r\n\r\n"
    assert _parse_answer(full, complete=False) == (
        507, b"", {"retry-after": "7", "content-length": "0"})
    with pytest.raises(_Retry):
        _parse_answer(b"garbage\r\n\r\n", complete=True)
    assert _plain_target("http://127.0.0.1:8765/") == ("127.0.0.1", 8765, "", "127.0.0.1:8765")
    assert _plain_target("http://box/tl/") == ("box", 80, "/tl", "box")
    assert _plain_target("http://[::1]:9/x") == ("::1", 9, "/x", "[::1]:9")
    assert _plain_target("https://box") is None


def test_base_path_in_the_url(tmp_path):
    d = FakeDaemon(prefix="/tl")
    try:
        proc = run_script(tmp_path, FILES_SCRIPT, **_env(d, TRACKLINE_URL=d.url + "/tl/"))
        assert proc.returncode == 0, proc.stderr
        assert "trackline:" not in proc.stderr, proc.stderr
        assert d.data("history.jsonl") == _local(tmp_path, "history.jsonl")
        assert any(path == "files/model.bin" for _, path, _, _ in d.file_requests)
    finally:
        d.close()


def test_full_disk_and_rate_limit_answers_are_waited_out_and_nothing_is_lost(tmp_path):
    # 507 twice (a full disk), then a 429 (a rate limit), each with Retry-After: 1; then all is well.
    d = FakeDaemon(lambda n: "507" if n in (0, 1) else "429" if n == 2 else None)
    try:
        proc = run_script(tmp_path, STREAM, ["1500"], **_env(d))
        assert proc.returncode == 0, proc.stderr
        _assert_same_copy(tmp_path, d)
        assert json.loads(d.data("run.json"))["state"] == "finished"
        statuses = [status for status, _, _ in d.requests]
        assert statuses[:3] == [507, 507, 429] and set(statuses[3:]) == {200}, statuses
        # Each refused request is followed by at least the second the daemon asked for.
        for i in (0, 1, 2):
            assert d.times[i + 1] - d.times[i] >= 0.95, (i, d.times[:5])
        lines = [line for line in proc.stderr.splitlines() if line.startswith("trackline:")]
        assert len(lines) == 2, proc.stderr  # once per kind of answer, not once per answer
        assert "out of disk space (HTTP 507 insufficient_storage)" in lines[0], lines
        assert "nothing is lost" in lines[0] and "slow down (HTTP 429" in lines[1], lines
    finally:
        d.close()


def test_retry_after_values_are_bounded():
    import email.utils

    from trackline._remote import MAX_RETRY_AFTER, MIN_RETRY_AFTER, retry_after_seconds

    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds(" 2.5 ") == 2.5
    assert retry_after_seconds("0") == MIN_RETRY_AFTER
    assert retry_after_seconds("-3") == MIN_RETRY_AFTER
    assert retry_after_seconds("86400") == MAX_RETRY_AFTER
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("nan") is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= retry_after_seconds(in_ten) <= 11


def test_a_wait_without_retry_after_backs_off_and_is_bounded():
    from trackline._remote import MIN_RETRY_AFTER, Uploader, _Wait

    up = Uploader("/nonexistent", "p", "r", "http://127.0.0.1:9", start=False)
    for _ in range(10):
        up._wait(_Wait(503, "unavailable", None))
    seconds = [s for _, s in up.waits]
    assert seconds[0] == MIN_RETRY_AFTER and seconds[1] == 2 * MIN_RETRY_AFTER
    assert seconds == sorted(seconds) and seconds[-1] == 60.0
    up._wait(_Wait(507, "insufficient_storage", 3.0))
    assert up.waits[-1] == (507, 3.0) and up._not_before > time.monotonic() + 2
