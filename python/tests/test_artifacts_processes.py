"""Artifacts across processes: two writers logging one name get distinct version numbers and lose
none; a writer killed with SIGKILL in the middle of ``log_artifact`` leaves no half version and
no blob whose bytes differ from its name."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import trackline
from conftest import subprocess_env, write_script

WRITER = """
import os, sys, json
import trackline
run = trackline.init(project="conc")
tag, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
numbers = []
for i in range(count):
    path = "payload-%s.bin" % tag
    with open(path, "wb") as f:
        f.write(("%s-%d-" % (tag, i)).encode() + os.urandom(size))
    art = trackline.Artifact("shared", type="dataset")
    art.add_file(path, name="payload.bin")
    run.log_artifact(art, aliases=["from-%s" % tag])
    numbers.append(int(art.version[1:]))
    print(art.version, flush=True)
run.finish()
print(json.dumps(numbers))
"""


def _start(tmp_path, *args):
    script = write_script(tmp_path, WRITER, "writer.py")
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], cwd=str(tmp_path),
                            env=subprocess_env(tmp_path / "root"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _check_store(root):
    """Every version file is whole JSON naming stored blobs; every blob matches its hash."""
    folder = os.path.join(root, "conc", ".artifacts", "shared")
    numbers = []
    for name in os.listdir(folder):
        if name.startswith("v"):
            with open(os.path.join(folder, name)) as f:
                doc = json.load(f)
            assert name == "v%d.json" % doc["version"]
            numbers.append(doc["version"])
            for entry in doc["manifest"]["contents"].values():
                blob = os.path.join(root, ".trackline", "blobs", entry["digest"][:2],
                                    entry["digest"][2:])
                assert os.path.getsize(blob) == entry["size"]
    for top, _, files in os.walk(os.path.join(root, ".trackline", "blobs")):
        for name in files:
            if name.startswith("."):
                continue
            with open(os.path.join(top, name), "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == os.path.basename(top) + name
    return sorted(numbers)


def test_two_processes_logging_one_name_get_distinct_numbers(tmp_path):
    procs = [_start(tmp_path, tag, 15, 1000) for tag in ("a", "b")]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    mine = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert not set(mine[0]) & set(mine[1])
    numbers = _check_store(str(tmp_path / "root"))
    assert numbers == list(range(30)) == sorted(mine[0] + mine[1])
    trackline.finish()
    os.environ["TRACKLINE_DIR"] = str(tmp_path / "root")
    run = trackline.init(project="conc")
    assert run.use_artifact("shared:latest").version == "v29"
    # each writer's alias points at its own last version
    assert run.use_artifact("shared:from-a").version == "v%d" % mine[0][-1]
    assert run.use_artifact("shared:from-b").version == "v%d" % mine[1][-1]


def test_kill_9_during_log_artifact_leaves_no_half_version(tmp_path):
    root = str(tmp_path / "root")
    for delay in (0.35, 0.6, 0.9):
        proc = _start(tmp_path, "k", 1000, 4 << 20)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        numbers = _check_store(root) if os.path.isdir(
            os.path.join(root, "conc", ".artifacts", "shared")) else []
        assert numbers == list(range(len(numbers)))
    assert numbers, "no version was logged before the kills"
    trackline.finish()
    os.environ["TRACKLINE_DIR"] = root
    run = trackline.init(project="conc")
    latest = run.use_artifact("shared:latest")
    assert latest.version == "v%d" % numbers[-1]
    path = latest.download(str(tmp_path / "dl"))
    latest.verify(path)
