"""Run metadata collected once at ``init()``: operating system, Python version, git state.

:func:`collect` returns the fields added to ``run.json`` (docs/format.md)::

    "os": "Linux-6.8.0-x86_64", "python": "3.11.7",
    "git": {"commit": "9f1c...", "branch": "main", "dirty": false, "remote": "https://..."}

``git`` is null unless the current directory is inside a git work tree (with a commit) and ``git``
is on PATH. The three ``git`` commands run in parallel with a short timeout (:data:`GIT_TIMEOUT`); any
failure leaves the field (or the sub-field) out or ``null``, silently. ``git status`` runs with
``GIT_OPTIONAL_LOCKS=0`` so it never takes the index lock under the user's feet. Credentials in a
remote URL (``https://user:token@host/...``) are removed before they are recorded.

Nothing here is expensive to import: ``platform.platform()`` (which reads the Python executable to
find the libc version, ~50 ms) is not used; ``os.uname()`` gives the same facts.
"""

import os
import sys

from . import _env

#: Seconds the git commands may take together before they are abandoned.
GIT_TIMEOUT = 2.0


def collect(cwd=None):
    """The metadata fields for run.json: ``os``, ``python`` and ``git`` (null outside a work tree)."""
    return {"os": os_name(), "python": "%d.%d.%d" % sys.version_info[:3], "git": git_info(cwd)}


def os_name():
    """``<system>-<release>-<machine>``, e.g. ``Linux-6.8.0-45-generic-x86_64``."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        u = uname()
        return "%s-%s-%s" % (u.sysname, u.release, u.machine)
    import platform  # Windows: no os.uname

    return "%s-%s-%s" % (platform.system(), platform.release(), platform.machine())


def git_info(cwd=None, timeout=GIT_TIMEOUT):
    """``{"commit", "branch", "dirty", "remote"}`` of the work tree containing ``cwd``, or None.

    ``branch`` is null on a detached HEAD, ``dirty`` is null if ``git status`` did not answer in
    time, ``remote`` is the URL of ``origin`` (else of the first remote) or null."""
    import subprocess
    import time

    env = _env.child_environment(GIT_OPTIONAL_LOCKS="0", LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    commands = {
        "head": ["git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
        "status": ["git", "status", "--porcelain", "--untracked-files=no", "--ignore-submodules"],
        "remotes": ["git", "config", "--get-regexp", r"^remote\..*\.url$"],
    }
    procs = {}
    try:
        for name, argv in commands.items():
            procs[name] = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
    except OSError:  # no git on PATH, or cwd vanished
        _kill(procs)
        return None
    deadline = time.monotonic() + timeout
    out = {}
    for name, proc in procs.items():
        try:
            stdout, _ = proc.communicate(timeout=max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            continue
        except OSError:
            continue
        if proc.returncode == 0 or name == "remotes":  # `config --get-regexp` exits 1 on no match
            out[name] = stdout.decode("utf-8", "replace")
    _kill(procs)
    head = out.get("head", "").split()
    if len(head) < 1 or len(head[0]) < 7:
        return None  # not a work tree, no commit yet, or git too slow
    branch = head[1] if len(head) > 1 and head[1] != "HEAD" else None
    status = out.get("status")
    return {
        "commit": head[0],
        "branch": branch,
        "dirty": None if status is None else bool(status.strip()),
        "remote": _remote_url(out.get("remotes", "")),
    }


def _kill(procs):
    for proc in procs.values():
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait()
            except OSError:
                pass
        for stream in (proc.stdout,):
            if stream is not None:
                stream.close()


def _remote_url(text):
    urls = {}
    for line in text.splitlines():
        key, _, url = line.partition(" ")
        if key.startswith("remote.") and key.endswith(".url") and url.strip():
            urls.setdefault(key[len("remote."):-len(".url")], url.strip())
    if not urls:
        return None
    url = urls.get("origin") or next(iter(urls.values()))
    return strip_credentials(url)


def strip_credentials(url):
    """``url`` without a ``user:password@`` part (``git@host:x`` scp-style URLs are kept)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    return scheme + sep + authority + slash + path


def hostname():
    """This machine's host name (``socket.gethostname()``), or None; written to run.json ``host``."""
    import socket  # not at module level: keeps `import trackline` light

    try:
        return socket.gethostname()
    except OSError:
        return None


#: A running run whose heartbeat is older than this many seconds is crashed: the daemon's default
#: ``--heartbeat-timeout-secs`` (docs/format.md, "run.json").
HEARTBEAT_TIMEOUT = 60.0


def derive_state(meta, now):
    """The state a reader shows for the run.json ``meta`` at unix time ``now``.

    The rule of docs/format.md, as the daemon applies it (daemon/src/store/mod.rs): a run whose
    ``state`` is ``running`` is ``crashed`` when its heartbeat (``heartbeat_at``, never earlier than
    ``created_at``) is older than :data:`HEARTBEAT_TIMEOUT`, or when ``host`` is this machine and
    process ``pid`` is gone. ``tests/fixtures/run_state_cases.json`` holds cases both sides check."""
    state = meta.get("state")
    if state != "running":
        return state
    created = _number(meta.get("created_at"))
    beat = _number(meta.get("heartbeat_at"))
    if beat is None or (created is not None and created > beat):
        beat = created
    if beat is not None and now - beat > HEARTBEAT_TIMEOUT:
        return "crashed"
    pid = meta.get("pid")
    if type(pid) is int and pid > 0 and meta.get("host") == hostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return "crashed"
        except (PermissionError, OSError):
            pass
    return state


def _number(value):
    return value if type(value) in (int, float) else None
