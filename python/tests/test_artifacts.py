"""Artifacts offline: W&B's fundamentals flow, a Lightning-style checkpoint loop, HF's new_file,
dedup in the blob store, the version and alias files as docs/format.md "Artifacts" defines them,
references, verify, validation errors, disabled mode and the public API."""

import hashlib
import json
import os

import pytest

import trackline
from trackline import _artifact_store as store_mod


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Downloads to the default ``./artifacts`` land in the test's folder."""
    monkeypatch.chdir(tmp_path)


def _root():
    return os.environ["TRACKLINE_DIR"]


def _blob_files(root):
    out = []
    for folder, _, files in os.walk(os.path.join(root, ".trackline", "blobs")):
        out.extend(os.path.join(folder, f) for f in files)
    return out


def _blob_bytes(root):
    return sum(os.path.getsize(p) for p in _blob_files(root))


def _lineage(run):
    with open(os.path.join(run.dir, "artifacts.jsonl")) as f:
        return [json.loads(line) for line in f]


def _version_file(project, name, n):
    path = os.path.join(_root(), project, ".artifacts", name, "v%d.json" % n)
    with open(path) as f:
        return json.load(f)


def _dataset(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "train.csv").write_text("x,y\n1,2\n")
    (data / "sub" / "labels.txt").write_text("cat\ndog\n")
    return data


def test_fundamentals_flow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _dataset(tmp_path)
    run = trackline.init(project="fund")
    raw = trackline.Artifact("mnist", type="dataset", description="raw", metadata={"rows": 1})
    raw.add_dir(str(data))
    logged = run.log_artifact(raw)
    assert logged is raw and raw.name == "mnist:v0" and raw.version == "v0"
    assert raw.aliases == ["latest"] and raw.state == "COMMITTED"
    run.finish()

    run2 = trackline.init(project="fund")
    used = run2.use_artifact("mnist:latest")
    assert used.name == "mnist:v0" and used.type == "dataset" and used.metadata == {"rows": 1}
    folder = used.download()
    assert folder == os.path.join(str(tmp_path), "artifacts", "mnist:v0")
    assert open(os.path.join(folder, "sub", "labels.txt")).read() == "cat\ndog\n"
    used.verify(folder)

    derived = trackline.Artifact("mnist", type="dataset")
    derived.add_dir(folder)
    with derived.new_file("extra.txt") as f:
        f.write("more")
    run2.log_artifact(derived, aliases=["clean"])
    assert derived.name == "mnist:v1" and sorted(derived.aliases) == ["clean", "latest"]
    run2.finish()

    run3 = trackline.init(project="fund")
    clean = run3.use_artifact("mnist:clean", type="dataset")
    assert clean.version == "v1"
    assert sorted(e.path for e in clean.files()) == ["extra.txt", "sub/labels.txt", "train.csv"]
    old = run3.use_artifact("fund/mnist:v0")
    assert old.digest == raw.digest
    with pytest.raises(ValueError):
        run3.use_artifact("mnist:v1", type="model")

    # lineage: the producer's output line, the users' input lines, with the version digest
    assert [(l["direction"], l["version"]) for l in _lineage(run2)] == [("input", 0),
                                                                        ("output", 1)]
    assert [(l["direction"], l["version"]) for l in _lineage(run3)] == [("input", 1),
                                                                        ("input", 0)]
    assert _lineage(run3)[0]["digest"] == clean.digest
    assert clean.logged_by().id == run2.id
    assert sorted(r.id for r in old.used_by()) == sorted([run2.id, run3.id])


def test_version_file_and_digest_follow_the_contract(tmp_path):
    run = trackline.init(project="fmt")
    (tmp_path / "a.txt").write_text("alpha")
    art = trackline.Artifact("thing", "dataset", metadata={"k": [1, 2]})
    art.add_file(str(tmp_path / "a.txt"))
    art.add_reference("https://example.com/data.tar")
    run.log({"loss": 1.0})
    run.log_artifact(art, aliases=["first"]).wait()  # committed by the worker: wait for it
    doc = _version_file("fmt", "thing", 0)
    sha = hashlib.sha256(b"alpha").hexdigest()
    assert doc["format"] == 1 and doc["version"] == 0 and doc["type"] == "dataset"
    assert doc["run"] == run.id and doc["step"] == 1 and doc["metrics"] == []
    assert doc["manifest"]["contents"] == {
        "a.txt": {"digest": sha, "size": 5},
        "data.tar": {"digest": "https://example.com/data.tar",
                     "ref": "https://example.com/data.tar"},
    }
    expected = hashlib.sha256(("trackline-artifact-manifest-v1\na.txt:%s\n"
                               "data.tar:https://example.com/data.tar\n" % sha).encode())
    assert doc["digest"] == expected.hexdigest() == art.digest
    assert doc["size"] == 5 and doc["file_count"] == 2
    with open(store_mod.Store(_root()).blob_path(sha), "rb") as f:
        assert f.read() == b"alpha"
    lines = open(os.path.join(_root(), "fmt", ".artifacts", "thing", "aliases.jsonl")).read()
    assert [json.loads(l)["alias"] for l in lines.splitlines()] == ["first"]
    # the daemon's test vector (daemon/src/artifacts/files.rs)
    assert store_mod.manifest_digest({"b.txt": {"digest": "22"}, "a.txt": {"digest": "11"}}) \
        == "929dadeeed71bd41ee80edbe13ffba9b9ac8429662a159a9661d10ef8b3a15c4"


def test_lightning_checkpoint_loop_and_automatic_best(tmp_path):
    """As Lightning's WandbLogger: model-<runid> with model.ckpt each epoch, aliases
    ["latest", "best"] on improvement, metadata {score, original_filename}."""
    run = trackline.init(project="pl")
    run.define_metric("val/acc", goal="maximize")
    ckpt = tmp_path / "epoch.ckpt"
    best = None
    for epoch, acc in enumerate([0.5, 0.7, 0.6, 0.7]):
        run.log({"val/acc": acc, "epoch": epoch})
        ckpt.write_bytes(b"weights %d" % epoch)
        art = trackline.Artifact("model-%s" % run.id, type="model",
                                 metadata={"score": acc, "original_filename": ckpt.name})
        art.add_file(str(ckpt), name="model.ckpt")
        aliases = ["latest", "best"] if best is None or acc > best else ["latest"]
        best = acc if best is None or acc > best else best
        run.log_artifact(art, aliases=aliases)
        assert art.version == "v%d" % epoch
    name = "model-%s" % run.id
    doc = _version_file("pl", name, 2)
    assert doc["metrics"] == [{"name": "val/acc", "value": 0.6, "goal": "maximize"}]
    assert doc["step"] == 3 and doc["metadata"]["original_filename"] == "epoch.ckpt"
    # "best" was written by the caller: the user's alias wins over the automatic one.
    assert run.use_artifact(name + ":best").version == "v1"
    path = run.use_model(name + ":best")
    assert path.endswith("model.ckpt") and open(path, "rb").read() == b"weights 1"

    # Automatic best: no line ever named "best"; ties go to the newer version.
    for epoch, acc in enumerate([0.5, 0.7, 0.6, 0.7]):
        run.summary["val/acc"] = acc
        ckpt.write_bytes(b"auto %d" % epoch)
        run.log_model(str(ckpt), name="auto", aliases=["latest"])
    assert run.use_artifact("auto:best").version == "v3"
    run.summary["val/acc"] = float("nan")
    ckpt.write_bytes(b"auto nan")
    logged = run.log_model(str(ckpt), name="auto").wait()
    assert _version_file("pl", "auto", 4)["metrics"][0]["value"] is None
    assert run.use_artifact("auto:best").version == "v3"
    assert sorted(logged.aliases) == ["latest"]


def test_hf_new_file_modes_and_add_table():
    run = trackline.init(project="hf")
    art = trackline.Artifact("model-hf", type="model", metadata={"epoch": 1})
    with art.new_file("pytorch_model.bin", mode="wb") as f:
        f.write(b"\x00\x01\x02")
    with art.new_file("config.json") as f:  # mode="x": text
        f.write('{"a": 1}')
    with pytest.raises(ValueError):
        with art.new_file("config.json") as f:
            f.write("again")
    with art.new_file("notes.txt", mode="w") as f:
        f.write("one")
    first = art.get_entry("notes.txt")
    with art.new_file("notes.txt", mode="w") as f:  # replaces it; the first snapshot is dropped
        f.write("two")
    assert first.digest == hashlib.sha256(b"one").hexdigest() and first._staged is None
    table = trackline.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])
    entry = art.add(table, "preds")
    assert entry.path == "preds.table.json"
    run.log_artifact(art, aliases=["final_model"]).wait()
    assert not os.path.exists(store_mod.Store(_root()).blob_path(first.digest))
    # files the client wrote itself are hard-linked into the blob store, not copied
    blob = store_mod.Store(_root()).blob_path(hashlib.sha256(b"\x00\x01\x02").hexdigest())
    assert os.path.isfile(blob)
    used = run.use_artifact("model-hf:final_model")
    assert open(used.get_entry("notes.txt").download()).read() == "two"
    assert used.get("preds").data == [[1, "x"], [2, "y"]]
    assert used.get("preds").columns == ["a", "b"]
    staging = os.path.join(_root(), ".trackline", "staging")
    assert not os.path.isdir(staging) or os.listdir(staging) == []


def test_dedup_same_file_two_runs_and_identical_content(tmp_path):
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(3 << 20))
    run = trackline.init(project="dd")
    a = run.log_artifact(str(big), name="w", type="model")
    run.finish()
    assert _blob_bytes(_root()) == 3 << 20
    run2 = trackline.init(project="dd")
    b = run2.log_artifact(str(big), name="w", type="model", aliases=["again"])
    assert b.version == "v0" and a.digest == b.digest  # identical content: no new version
    assert sorted(b.aliases) == ["again", "latest"]
    c = run2.log_artifact(str(big), name="w2", type="model")
    assert c.version == "v0"
    assert _blob_bytes(_root()) == 3 << 20  # stored once for both runs and both names
    assert sorted(os.listdir(os.path.join(_root(), "dd", ".artifacts", "w"))) == [
        "aliases.jsonl", "v0.json"]
    # the identical log is a use of the version in the second run's lineage, as an output
    assert _lineage(run2)[0]["version"] == 0 and _lineage(run2)[0]["direction"] == "output"
    # an immutable file is hard-linked: no copy at all
    imm = tmp_path / "imm.bin"
    imm.write_bytes(b"immutable bytes")
    art = trackline.Artifact("imm", "dataset")
    art.add_file(str(imm), policy="immutable")
    run2.log_artifact(art).wait()
    blob = store_mod.Store(_root()).blob_path(hashlib.sha256(b"immutable bytes").hexdigest())
    assert os.stat(blob).st_ino == os.stat(str(imm)).st_ino


def test_log_artifact_path_naming_and_incremental(tmp_path):
    run = trackline.init(project="inc")
    (tmp_path / "one.txt").write_text("1")
    art = run.log_artifact(str(tmp_path / "one.txt"))
    assert art.name == "run-%s-one.txt:v0" % run.id and art.type == "unspecified"
    tmp = trackline.Artifact("tmp", "dataset")
    entry = tmp.add_file(str(tmp_path / "one.txt"), name="dir/x.tar.gz", is_tmp=True)
    assert entry.path == "dir/%s.tar.gz" % hashlib.sha256(b"1").hexdigest()[:20]
    (tmp_path / "two.txt").write_text("2")
    base = trackline.Artifact("inc", "dataset")
    base.add_file(str(tmp_path / "one.txt"))
    run.log_artifact(base)
    more = trackline.Artifact("inc", "dataset", incremental=True)
    more.add_file(str(tmp_path / "two.txt"))
    run.log_artifact(more)
    assert sorted(e.path for e in more.files()) == ["one.txt", "two.txt"]
    assert more.version == "v1"


def test_references_and_verify(tmp_path):
    run = trackline.init(project="refs")
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"xx")
    (folder / "y.bin").write_bytes(b"yyy")
    art = trackline.Artifact("refs", "dataset")
    art.add_reference("file://" + str(folder))
    art.add_reference("https://example.com/big/model.safetensors", checksum=False)
    run.log_artifact(art)
    files = {e.path: e for e in art.files()}
    assert files["x.bin"].digest == hashlib.sha256(b"xx").hexdigest()
    assert files["x.bin"].ref == "file://" + str(folder / "x.bin")
    assert files["model.safetensors"].digest == "https://example.com/big/model.safetensors"
    assert _blob_files(_root()) == []  # references store no bytes
    used = run.use_artifact("refs:latest")
    root = used.download(str(tmp_path / "dl"))
    assert open(os.path.join(root, "y.bin"), "rb").read() == b"yyy"
    assert not os.path.exists(os.path.join(root, "model.safetensors"))  # never fetched
    used.verify(root)
    with open(os.path.join(root, "y.bin"), "wb") as f:
        f.write(b"changed")
    with pytest.raises(ValueError, match="Digest mismatch"):
        used.verify(root)
    used.download(root)  # a changed file is written again
    used.verify(root)
    (tmp_path / "dl" / "stray.txt").write_text("?")
    with pytest.raises(ValueError, match="not a member"):
        used.verify(root)
    used.checkout(root)
    used.verify(root)
    with pytest.raises(ValueError):
        art2 = trackline.Artifact("r2", "dataset")
        art2.add_reference("s3://bucket/key")


def test_validation_errors(tmp_path):
    for bad in ["", "a/b", "a:b", "x" * 129, ".", "..", "sp ace"]:
        with pytest.raises(ValueError):
            trackline.Artifact(bad, "dataset")
    trackline.Artifact("x" * 128, "dataset")
    for bad_type in ["job", "wandb-history", "", "a/b"]:
        with pytest.raises(ValueError):
            trackline.Artifact("ok", bad_type)
    with pytest.raises(ValueError, match="at most 100"):
        trackline.Artifact("ok", "dataset", metadata={str(i): i for i in range(101)})
    with pytest.raises(TypeError, match="'obj'.*not JSON serializable"):
        trackline.Artifact("ok", "dataset", metadata={"obj": object()})
    run = trackline.init(project="val")
    (tmp_path / "f.txt").write_text("f")
    art = trackline.Artifact("ok", "dataset")
    for bad_path in ["../escape", "/abs", "a//b", "a/./b", "a\\b"]:
        with pytest.raises(ValueError):
            art.add_file(str(tmp_path / "f.txt"), name=bad_path)
    art.add_file(str(tmp_path / "f.txt"))
    for bad_alias in ["v3", "a b", "a/b", "a:b"]:
        with pytest.raises(ValueError):
            run.log_artifact(art, aliases=[bad_alias])
    run.log_artifact(art, aliases=["latest", "good"]).wait()  # "latest" is never written
    lines = open(os.path.join(_root(), "val", ".artifacts", "ok", "aliases.jsonl")).read()
    assert [json.loads(l)["alias"] for l in lines.splitlines()] == ["good"]
    changed = trackline.Artifact("later", "dataset")
    changed.add_file(str(tmp_path / "f.txt"))
    changed.metadata["bad"] = object()  # changed in place after the check: checked again
    with pytest.raises(TypeError, match="'bad'"):
        run.log_artifact(changed)
    with pytest.raises(Exception, match="logged"):
        art.add_file(str(tmp_path / "f.txt"), name="g.txt")
    with pytest.raises(trackline.CommError):
        run.use_artifact("ok:nope")
    with pytest.raises(trackline.CommError):
        run.use_artifact("missing:latest")


def test_download_refuses_paths_leaving_root_and_aliases_setter(tmp_path):
    run = trackline.init(project="dl")
    (tmp_path / "f.txt").write_text("f")
    art = trackline.Artifact("d", "dataset")
    art.add_file(str(tmp_path / "f.txt"), name="deep/f.txt")
    run.log_artifact(art)
    with pytest.raises(ValueError):
        store_mod.safe_join(str(tmp_path / "root_dl"), "../x")
    os.makedirs(str(tmp_path / "root_dl"))
    os.symlink(str(tmp_path), str(tmp_path / "root_dl" / "deep"))
    with pytest.raises(ValueError, match="leaves"):
        art.download(str(tmp_path / "root_dl"))
    art.aliases = ["prod"]
    art.save()
    assert run.use_artifact("d:prod").version == "v0"
    art.aliases = []
    art.save()
    with pytest.raises(trackline.CommError):
        run.use_artifact("d:prod")


def test_delete_link_and_registry(tmp_path):
    run = trackline.init(project="reg")
    (tmp_path / "m.pt").write_bytes(b"m")
    art = run.log_model(str(tmp_path / "m.pt"), name="clf", aliases=["staging"])
    linked = run.link_artifact(art, "wandb-registry-model/mnist-clf", aliases=["production"])
    assert linked.project == "wandb-registry-model" and linked.name == "mnist-clf:v0"
    doc = _version_file("wandb-registry-model", "mnist-clf", 0)
    assert doc["linked_from"] == {"project": "reg", "name": "clf", "version": 0}
    assert doc["digest"] == art.digest
    got = trackline.Api().artifact("wandb-registry-model/mnist-clf:production")
    assert got.linked_from["name"] == "clf"
    (tmp_path / "m.pt").write_bytes(b"m2")
    run.link_model(str(tmp_path / "m.pt"), "mnist-clf")
    assert trackline.Api().artifact("wandb-registry-model/mnist-clf:latest").version == "v1"
    with pytest.raises(trackline.CommError):
        art.delete()  # a user alias points at it
    art.delete(delete_aliases=True)
    folder = os.path.join(_root(), "reg", ".artifacts", "clf")
    assert "v0.deleted.json" in os.listdir(folder)
    (tmp_path / "m.pt").write_bytes(b"m3")
    again = run.log_model(str(tmp_path / "m.pt"), name="clf")
    assert again.version == "v1"  # numbers are never reused


def test_public_api_and_module_level_verbs(tmp_path):
    run = trackline.init(project="api")
    (tmp_path / "f.txt").write_text("f")
    trackline.log_artifact(str(tmp_path / "f.txt"), name="one", type="dataset")
    (tmp_path / "f.txt").write_text("g")
    trackline.log_artifact(str(tmp_path / "f.txt"), name="one", type="dataset")
    assert trackline.use_artifact("one:v0").version == "v0"
    run.finish()
    api = trackline.Api()
    assert api.artifact("api/one:latest").version == "v1"
    assert [a.version for a in api.artifact_versions("dataset", "api/one")] == ["v1", "v0"]
    assert [a.version for a in api.artifacts("dataset", "api/one")] == ["v1", "v0"]
    assert api.artifact_versions("model", "api/one") == []
    assert api.artifact_exists("api/one:v0") and not api.artifact_exists("api/one:v9")
    # without a run: use via Api, download into $WANDB_ARTIFACT_DIR
    os.environ["WANDB_ARTIFACT_DIR"] = str(tmp_path / "arts")
    try:
        path = api.artifact("api/one:v0").download()
    finally:
        del os.environ["WANDB_ARTIFACT_DIR"]
    assert path == str(tmp_path / "arts" / "one:v0")


def test_disabled_mode_writes_nothing(tmp_path):
    run = trackline.init(project="off", mode="disabled")
    (tmp_path / "m.pt").write_bytes(b"m")
    art = trackline.Artifact("d", "dataset")
    art.add_file(str(tmp_path / "m.pt"))
    with art.new_file("x.txt") as f:
        f.write("x")
    assert run.log_artifact(art) is art
    assert run.log_model(str(tmp_path / "m.pt")).type == "model"
    assert run.use_artifact("d:latest").name == "d"
    assert isinstance(run.use_model("d:latest"), str)
    assert run.link_model(str(tmp_path / "m.pt"), "reg") is None
    run.finish()
    assert not os.path.exists(_root())


def test_alias_fold_and_automatic_best_rules_as_the_daemon():
    def model(name, value, goal, kind="model"):
        return {"type": kind, "metrics": [{"name": name, "value": value, "goal": goal}]}

    versions = {0: model("loss", 0.1, "minimize"), 1: model("acc", 0.9, "maximize"),
                2: model("acc", 0.8, "maximize"), 3: model("acc", 0.99, "maximize", "dataset"),
                4: {"type": "model", "metrics": []}}
    # the newest model version with metrics (v2) decides: acc, maximize; v0 measures another
    # metric and v3 is no model
    assert store_mod.automatic_best(versions) == 1
    versions[5] = model("acc", 0.9, "maximize")
    assert store_mod.automatic_best(versions) == 5  # ties: the newer
    versions[6] = model("acc", None, "maximize")
    assert store_mod.automatic_best(versions) == 5
    lines = [{"alias": "prod", "version": 0}, {"alias": "prod", "version": 9},
             {"alias": "old", "version": 1}, {"alias": "old", "version": None}]
    assert store_mod.fold_aliases(lines, versions) == {"prod": 0, "latest": 6, "best": 5}
    lines.append({"alias": "best", "version": 42})  # names no live version, but turns it off
    assert store_mod.fold_aliases(lines, versions) == {"prod": 0, "latest": 6}


def test_rewritten_file_of_the_same_size_is_hashed_again(tmp_path, monkeypatch):
    """A checkpoint rewritten at once with the same size is a new version (never a stale digest);
    an old unchanged file is not read again by the same process."""
    run = trackline.init(project="racy")
    path = tmp_path / "model.ckpt"
    versions = []
    for i in range(5):
        path.write_bytes(b"weights-%d" % i)
        versions.append(run.log_model(str(path), name="m").version)
    assert versions == ["v0", "v1", "v2", "v3", "v4"]
    old = tmp_path / "old.bin"
    old.write_bytes(b"old")
    os.utime(str(old), (1_000_000_000, 1_000_000_000))
    store = store_mod.Store(_root())
    digest = store.put_file(str(old))[0]

    def no_read(*args, **kwargs):
        raise AssertionError("the file was read again")

    for name in ("_copy_hashing", "_hash_stream", "hash_file"):
        monkeypatch.setattr(store_mod, name, no_read)
    assert store.put_file(str(old)) == (digest, 3)


def test_download_checks_the_bytes_against_their_digest(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "_reflink", lambda src, dst: False)  # a copy is checked
    run = trackline.init(project="corrupt")
    (tmp_path / "f.txt").write_text("good")
    art = trackline.Artifact("c", "dataset")
    art.add_file(str(tmp_path / "f.txt"))
    run.log_artifact(art).wait()
    blob = store_mod.Store(_root()).blob_path(hashlib.sha256(b"good").hexdigest())
    os.chmod(blob, 0o644)
    with open(blob, "wb") as f:
        f.write(b"evil")
    with pytest.raises(ValueError, match="do not match"):
        art.download(str(tmp_path / "dl"))
    assert not os.path.exists(str(tmp_path / "dl" / "f.txt"))


def test_big_old_file_is_hashed_first_and_copied_in_the_kernel(tmp_path, monkeypatch):
    payload = os.urandom(store_mod.HASH_FIRST_BYTES + 10)
    big = tmp_path / "pretrained.bin"
    big.write_bytes(payload)
    os.utime(str(big), (1_000_000_000, 1_000_000_000))
    store = store_mod.Store(str(tmp_path / "store"))
    digest, size = store.put_file(str(big))
    assert digest == hashlib.sha256(payload).hexdigest() and size == len(payload)
    with open(store.blob_path(digest), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest
    store_mod._STORED.clear()  # as in a new process

    def no_write(*args, **kwargs):
        raise AssertionError("a stored blob was written again")

    monkeypatch.setattr(store_mod, "_kernel_copy", no_write)
    monkeypatch.setattr(store_mod, "_copy_hashing", no_write)
    assert store.put_file(str(big)) == (digest, size)
    monkeypatch.undo()

    # changed between its hash and its copy: copied again, named by what was copied
    other = tmp_path / "other.bin"
    other.write_bytes(payload[::-1])
    os.utime(str(other), (1_000_000_000, 1_000_000_000))
    real_copy = store_mod._kernel_copy

    def copy_then_change(src, dst_fd, size):
        real_copy(src, dst_fd, size)
        with open(str(other), "r+b") as f:
            f.write(b"changed!")

    monkeypatch.setattr(store_mod, "_kernel_copy", copy_then_change)
    new_digest, _ = store.put_file(str(other))
    expected = hashlib.sha256(b"changed!" + payload[::-1][8:]).hexdigest()
    assert new_digest == expected
    with open(store.blob_path(new_digest), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == expected
    assert [n for n in os.listdir(store.blobs) if n.startswith(".tmp-")] == []


def test_a_table_read_back_from_an_artifact_holds_images_again():
    np = pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    run = trackline.init(project="tables")
    table = trackline.Table(columns=["id", "image"])
    table.add_data(1, trackline.Image(np.full((4, 5, 3), 7, dtype=np.uint8), caption="seven"))
    art = trackline.Artifact("val", type="dataset")
    art.add(table, "val_data")
    run.log_artifact(art).wait()
    got = run.use_artifact("val:latest").get("val_data")
    ((row_id, image),) = got.data
    assert row_id == 1 and isinstance(image, trackline.Image)
    assert image.caption == "seven" and (image.width, image.height) == (5, 4)
    assert (np.asarray(image.image) == 7).all()
    run.log({"again": got})  # W&B's pattern: a table read back, logged into the run
    run.finish()
    with open(os.path.join(run.dir, "summary.json")) as f:
        ref = json.load(f)["again"]
    with open(os.path.join(run.dir, *ref["path"].split("/"))) as f:
        cell = json.load(f)["data"][0][1]
    assert cell["_type"] == "image-file" and os.path.isfile(os.path.join(run.dir, cell["path"]))
