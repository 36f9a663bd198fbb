"""Run metadata in run.json: os, python, git state (in a real temporary git repository)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import only_run_dir, read_json, run_script

from trackline import _meta

SCRIPT = """
    import trackline
    trackline.init(project="p")
    trackline.log({"a": 1})
"""

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    out = subprocess.run(["git", *args], cwd=str(cwd), env=env, check=True, capture_output=True,
                         text=True)
    return out.stdout.strip()


def _repo(path):
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q")
    _git(path, "checkout", "-q", "-b", "feature/x")
    (path / "train.py").write_text("print('v1')\n")
    _git(path, "add", "train.py")
    _git(path, "commit", "-q", "-m", "first")
    return _git(path, "rev-parse", "HEAD")


def test_os_and_python_are_recorded(tmp_path):
    proc = run_script(tmp_path, SCRIPT)
    assert proc.returncode == 0, proc.stderr
    meta = read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))
    assert meta["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert meta["os"] == _meta.os_name() and meta["os"].count("-") >= 2
    assert meta["git"] is None  # tmp_path is not in a git work tree
    assert meta["command"][0].endswith("script.py")


@needs_git
def test_git_commit_branch_and_clean_state(tmp_path):
    commit = _repo(tmp_path)
    _git(tmp_path, "remote", "add", "origin", "https://alice:s3cret@example.com/team/proj.git")
    proc = run_script(tmp_path, SCRIPT)  # the script itself is untracked: still clean
    assert proc.returncode == 0, proc.stderr
    git = read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))["git"]
    assert git == {"commit": commit, "branch": "feature/x", "dirty": False,
                   "remote": "https://example.com/team/proj.git"}  # credentials stripped


@needs_git
def test_git_dirty_and_detached_head(tmp_path):
    commit = _repo(tmp_path)
    _git(tmp_path, "checkout", "-q", "--detach")
    (tmp_path / "train.py").write_text("print('v2')\n")  # a tracked file modified
    proc = run_script(tmp_path, SCRIPT)
    assert proc.returncode == 0, proc.stderr
    git = read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))["git"]
    assert git == {"commit": commit, "branch": None, "dirty": True, "remote": None}


@needs_git
def test_repository_without_commits_and_missing_git_are_silent(tmp_path):
    (tmp_path / "empty").mkdir()
    _git(tmp_path / "empty", "init", "-q")
    assert _meta.git_info(str(tmp_path / "empty")) is None
    # git not on PATH: no git field, no warning, no error
    proc = run_script(tmp_path, SCRIPT, PATH=str(tmp_path / "nowhere"))
    assert proc.returncode == 0, proc.stderr
    assert "trackline" not in proc.stderr
    meta = read_json(os.path.join(only_run_dir(tmp_path / "root"), "run.json"))
    assert meta["git"] is None


def test_strip_credentials():
    assert _meta.strip_credentials("https://u:p@host/x.git") == "https://host/x.git"
    assert _meta.strip_credentials("ssh://git@host:22/x.git") == "ssh://host:22/x.git"
    assert _meta.strip_credentials("git@github.com:me/x.git") == "git@github.com:me/x.git"
    assert _meta.strip_credentials("https://host/a@b") == "https://host/a@b"


def test_run_json_documents_the_new_fields():
    from conftest import REPO_DIR

    with open(os.path.join(REPO_DIR, "docs", "format.md"), encoding="utf-8") as f:
        text = f.read()
    for field in ("`os`", "`python`", "`git`", '"dirty"', '"remote"'):
        assert field in text, field
    example = text[text.index("## `run.json`"):].split("```json\n", 1)[1].split("```", 1)[0]
    assert set(json.loads(example)["git"]) == {"commit", "branch", "dirty", "remote"}
