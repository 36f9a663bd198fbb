"""Logging in the background: ``add_file``/``add_dir`` take a snapshot (the caller pays about a
copy), the worker hashes and commits; the logged bytes are the snapshot's even when the source
changes right after; ``wait()``, ``use_artifact``, ``finish()`` and the process's exit see the
version; a failed commit is raised by ``wait()``; no temp file or pack is left behind."""

import hashlib
import json
import os

import pytest

import trackline
from trackline import _artifact_store as store_mod
from trackline import _artifacts
from conftest import run_script


def _root():
    return os.environ["TRACKLINE_DIR"]


def _temps(root):
    """Temp files (snapshots, packs) left in the blob store."""
    out = []
    for folder, _, files in os.walk(os.path.join(root, ".trackline", "blobs")):
        out.extend(f for f in files if f.startswith(".tmp-"))
    return out


def test_the_logged_bytes_are_the_snapshot_taken_when_the_file_was_added(tmp_path):
    run = trackline.init(project="snap")
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"epoch 1" * 100000)  # a kernel copy, not the small-file pack
    small = tmp_path / "small.txt"
    small.write_bytes(b"first")
    art = trackline.Artifact("ckpt", type="model")
    art.add_file(str(ckpt))
    art.add_file(str(small))
    ckpt.write_bytes(b"epoch 2" * 100000)  # the training loop overwrites its files at once
    small.write_bytes(b"second")
    run.log_artifact(art)
    ckpt.write_bytes(b"epoch 3")
    used = run.use_artifact("ckpt:latest")  # sees the version still being committed
    assert used.version == "v0"
    root = used.download(str(tmp_path / "dl"))
    assert open(os.path.join(root, "model.ckpt"), "rb").read() == b"epoch 1" * 100000
    assert open(os.path.join(root, "small.txt"), "rb").read() == b"first"
    assert art.get_entry("small.txt").digest == hashlib.sha256(b"first").hexdigest()
    assert _temps(_root()) == []


def test_a_folder_of_small_files_goes_through_one_pack_and_leaves_nothing_behind(tmp_path,
                                                                                 monkeypatch):
    made = []
    real_pack = store_mod.Pack

    def counting_pack(folder):
        made.append(real_pack(folder))
        return made[-1]

    monkeypatch.setattr(store_mod, "Pack", counting_pack)
    run = trackline.init(project="pack")
    data = tmp_path / "data"
    expected = {}
    for i in range(300):
        path = data / ("part%d" % (i % 7)) / ("item%03d.bin" % i)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = (b"%d-" % i) * (1 + i % 50)
        if i % 100 == 5:
            body = b"same bytes"  # duplicates inside the folder are stored once
        path.write_bytes(body)
        expected[os.path.relpath(path, data).replace(os.sep, "/")] = body
    (data / "big.bin").write_bytes(os.urandom(store_mod.PACK_MAX_FILE + 1))
    expected["big.bin"] = (data / "big.bin").read_bytes()
    art = trackline.Artifact("ds", type="dataset")
    art.add_dir(str(data))
    art.remove("part3/item003.bin")
    del expected["part3/item003.bin"]
    assert len(made) == 1 and os.path.exists(made[0].path)
    run.log_artifact(art).wait()
    assert not os.path.exists(made[0].path) and made[0].fd is None
    assert _temps(_root()) == []
    root = run.use_artifact("ds:v0").download(str(tmp_path / "dl"))
    got = {}
    for folder, _, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            got[os.path.relpath(full, root).replace(os.sep, "/")] = open(full, "rb").read()
    assert got == expected
    blobs = [f for _, _, files in os.walk(os.path.join(_root(), ".trackline", "blobs"))
             for f in files]
    assert len(blobs) == len(set(expected.values()))


def test_versions_are_numbered_in_the_order_they_were_logged_and_step_is_the_call_s(tmp_path):
    run = trackline.init(project="order")
    for i in range(6):
        (tmp_path / "w.bin").write_bytes(b"weights %d" % i)
        run.log({"loss": 1.0 / (i + 1)})
        run.log_model(str(tmp_path / "w.bin"), name="m", aliases=["e%d" % i])
    run.finish()
    with open(os.path.join(run.dir, "artifacts.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    assert [line["version"] for line in lines] == list(range(6))
    assert [line["step"] for line in lines] == list(range(1, 7))
    for i in range(6):
        doc = json.load(open(os.path.join(_root(), "order", ".artifacts", "m", "v%d.json" % i)))
        assert doc["step"] == i + 1
    trackline.init(project="order")
    assert trackline.use_artifact("m:e4").version == "v4"


def test_a_script_that_exits_right_after_log_artifact_still_commits_it(tmp_path):
    out = run_script(tmp_path, """
        import os, trackline
        run = trackline.init(project="exit")
        with open("w.bin", "wb") as f:
            f.write(os.urandom(3 << 20))
        art = trackline.Artifact("w", type="model")
        art.add_file("w.bin")
        run.log_artifact(art)
        os.remove("w.bin")  # gone before the worker hashes: the snapshot is what counts
        run.finish()
        with open("loose.txt", "w") as f:
            f.write("no run")
        loose = trackline.Artifact("loose", type="dataset")
        loose.add_file("loose.txt")
        loose.save(project="exit")  # no run: the interpreter's exit waits for the worker
    """)
    assert out.returncode == 0, out.stderr
    assert os.path.isfile(os.path.join(str(tmp_path / "root"), "exit", ".artifacts", "loose",
                                       "v0.json"))
    version = os.path.join(str(tmp_path / "root"), "exit", ".artifacts", "w", "v0.json")
    doc = json.load(open(version))
    entry = doc["manifest"]["contents"]["w.bin"]
    blob = os.path.join(str(tmp_path / "root"), ".trackline", "blobs", entry["digest"][:2],
                        entry["digest"][2:])
    assert hashlib.sha256(open(blob, "rb").read()).hexdigest() == entry["digest"]
    assert entry["size"] == 3 << 20
    assert _temps(str(tmp_path / "root")) == []


def test_a_failed_commit_is_raised_by_wait_and_reported_by_finish(tmp_path, monkeypatch):
    run = trackline.init(project="fail")
    (tmp_path / "f.txt").write_text("x")
    art = trackline.Artifact("f", type="dataset")
    art.add_file(str(tmp_path / "f.txt"))

    def broken_commit(self, project, name, doc, aliases=()):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.Store, "commit", broken_commit)
    run.log_artifact(art)
    with pytest.raises(OSError, match="disk full"):
        art.wait()
    with pytest.raises(OSError, match="disk full"):
        art.version  # noqa: B018
    with pytest.warns(UserWarning, match="artifact f was not logged: disk full"):
        _artifacts.wait_for_run(run)


def test_wait_with_a_timeout_and_a_logged_artifact_cannot_change(tmp_path, monkeypatch):
    import threading

    gate = threading.Event()
    real_commit = store_mod.Store.commit

    def slow_commit(self, *args, **kwargs):
        gate.wait(10)
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(store_mod.Store, "commit", slow_commit)
    run = trackline.init(project="slow")
    (tmp_path / "f.txt").write_text("x")
    art = trackline.Artifact("f", type="dataset")
    art.add_file(str(tmp_path / "f.txt"))
    run.log_artifact(art)
    with pytest.raises(TimeoutError):
        art.wait(timeout=0.05)
    with pytest.raises(trackline.errors.UsageError):
        art.add_file(str(tmp_path / "f.txt"), name="again.txt")
    gate.set()
    assert art.wait().version == "v0" and art.state == "COMMITTED"


def test_using_a_draft_that_was_never_logged_commits_it_first_and_records_it_as_input(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    run = trackline.init(project="draft-use")
    draft = trackline.Artifact("dataset", type="dataset")
    draft.add_file(str(tmp_path / "data.csv"))
    used = run.use_artifact(draft)
    assert used.version == "v0"
    run.finish()
    with open(os.path.join(run.dir, "artifacts.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    assert [(line["direction"], line["name"], line["version"]) for line in lines] == [
        ("input", "dataset", 0)]
