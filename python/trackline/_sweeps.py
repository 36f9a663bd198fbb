"""Sweeps from Python, as W&B's ``wandb.sweep`` and ``wandb.agent`` (docs/api.md "Sweeps").

``sweep(config, project=...)`` creates the sweep in the daemon that serves the data directory
(``$TRACKLINE_URL``; else the one its lock file names; else one is started with the
``trackline`` binary: ``$TRACKLINE_BIN`` or ``trackline`` on ``PATH``) and returns its id.

``agent(sweep_id, function, count=None)`` asks the daemon for runs and, for each, calls
``function`` in a child process (as wandb does, so that a run the sweep stops can be stopped):
its ``init()`` picks up the run id, the sweep and the parameters, which are locked in the run's
config. An exception fails that run and the agent goes on. Without ``function`` the sweep's
``program`` is run by ``trackline agent``.
"""

import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback
from urllib.parse import quote

from . import _env
from ._errors import UsageError, termlog, termwarn
from ._names import DEFAULT_PROJECT, resolve_root
from ._reports_http import Daemon, read_lock

#: Seconds to wait for a started daemon to say where it listens.
START_TIMEOUT = 15.0
#: Seconds a stopped run has between SIGTERM and a kill.
STOP_GRACE = 30.0
#: W&B's agent gives up when its first runs all fail, this many of them.
MAX_INITIAL_FAILURES = 5


def _q(segment):
    return quote(str(segment), safe="")


def _binary():
    found = _env.get("TRACKLINE_BIN") or shutil.which("trackline")
    if not found:
        raise UsageError(
            "sweeps need the trackline daemon: set $TRACKLINE_BIN to the binary, put `trackline` "
            "on PATH (cargo install --path daemon), or start `trackline serve` yourself")
    return found


def _alive(url):
    try:
        with socket.create_connection(_host_port(url), timeout=1.0):
            return True
    except OSError:
        return False


def _host_port(url):
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    return (host or rest).strip("[]"), int(port or 80)


def _daemon(root, token_file):
    """The daemon for ``root`` (started if none serves it) with the token for ``token_file``."""
    url = _env.get(_env.URL)
    if url:
        return Daemon(url, _env.get(_env.API_KEY), "$%s" % _env.URL)
    holder = read_lock(root) or {}
    if not (holder.get("url") and _alive(holder["url"])):
        holder = _start(root)
    token = None
    try:
        with open(os.path.join(root, ".trackline", token_file), encoding="utf-8") as f:
            token = f.read().strip() or None
    except OSError:
        pass
    return Daemon(holder["url"], token, "the daemon of %s" % root)


def _start(root):
    binary = _binary()
    os.makedirs(os.path.join(root, ".trackline"), exist_ok=True)
    log_path = os.path.join(root, ".trackline", "daemon.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([binary, "serve", "--port", "0", "--dir", root],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        holder = read_lock(root) or {}
        if holder.get("url") and holder.get("pid") == proc.pid and _alive(holder["url"]):
            termlog("started a Trackline daemon for %s at %s (pid %d)"
                    % (root, holder["url"], proc.pid))
            return holder
        if proc.poll() is not None:
            holder = read_lock(root) or {}
            if holder.get("url") and _alive(holder["url"]):
                return holder  # another one started meanwhile
            break
        time.sleep(0.1)
    raise UsageError("the Trackline daemon started for %s did not listen; see %s"
                     % (root, log_path))


def _sweep_id(sweep_id):
    sweep_id = str(sweep_id).rstrip("/").rsplit("/", 1)[-1]
    if len(sweep_id) != 8 or not all(c.islower() or c.isdigit() for c in sweep_id):
        raise UsageError("%r is not a sweep id (8 characters of a-z and 0-9)" % sweep_id)
    return sweep_id


def sweep(sweep, entity=None, project=None, prior_runs=None):
    """Create a sweep from a W&B sweep config (a dict, or a callable returning one); returns its
    id. ``entity`` and ``prior_runs`` are accepted as W&B's and not used."""
    config = sweep() if callable(sweep) else sweep
    if not isinstance(config, dict):
        raise UsageError("sweep() takes a sweep config: a dict such as {'method': 'random', "
                         "'parameters': {...}}")
    project = (project or config.get("project") or _env.run_defaults().get("project")
               or DEFAULT_PROJECT)
    daemon = _daemon(resolve_root(), "owner-token")
    info = daemon.request("POST", "/api/projects/%s/sweeps" % _q(project), {"config": config})
    sweep_id = info["id"]
    termlog("Created sweep with ID: %s" % sweep_id)
    termlog("View sweep at: %s/projects/%s/sweeps/%s" % (daemon.url, _q(project), sweep_id))
    termlog("Run sweep agent with: trackline agent %s/%s" % (project, sweep_id))
    return sweep_id


def _run_function(function, env):
    """The child process of one run: its identity in the environment, then the function."""
    for name, value in env.items():
        _env.export(name, value)
    import trackline

    try:
        function()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if trackline.run is not None:
            trackline.run.finish(exit_code=code)
        sys.exit(code)
    except BaseException:
        traceback.print_exc()
        if trackline.run is not None:
            trackline.run.finish(exit_code=1)
        sys.exit(1)
    if trackline.run is not None:
        trackline.run.finish()


def agent(sweep_id, function=None, entity=None, project=None, count=None):
    """Run runs of sweep ``sweep_id`` (``id``, ``project/id`` or ``entity/project/id``): each
    calls ``function`` in a child process; at most ``count`` runs."""
    sweep_id = _sweep_id(sweep_id)
    root = resolve_root()
    if function is None:
        command = [_binary(), "agent", sweep_id, "--dir", root]
        if count is not None:
            command += ["--count", str(int(count))]
        return subprocess.call(command)
    daemon = _daemon(root, "api_key")
    base = "/api/sweeps/%s/agents" % sweep_id
    welcome = daemon.request("POST", base, {"host": socket.gethostname(), "pid": os.getpid()})
    agent_path = "%s/%s" % (base, welcome["agent"])
    beat = float(welcome.get("heartbeat_secs") or 5)
    termlog("agent %s of sweep %s starting" % (welcome["agent"], sweep_id))
    made = failures = successes = 0
    while count is None or made < count:
        command = daemon.request("POST", agent_path + "/next", {})
        action = command.get("action")
        if action == "done":
            termlog("%s: done" % command.get("reason", "the sweep is over"))
            return None
        if action == "wait":
            time.sleep(max(1, int(command.get("secs", 5))))
            continue
        made += 1
        run_id = command["run"]
        env = {
            _env.SWEEP_ID: sweep_id, _env.WANDB_SWEEP_ID: sweep_id,
            "TRACKLINE_RUN_ID": run_id, "WANDB_RUN_ID": run_id,
            "TRACKLINE_PROJECT": command["project"], "WANDB_PROJECT": command["project"],
            _env.SWEEP_PARAMS: json.dumps(command["params"]),
        }
        termlog("Agent Starting Run: %s with config:\n%s" % (run_id, "\n".join(
            "\t%s: %r" % kv for kv in sorted(command["params"].items()))))
        proc = multiprocessing.Process(target=_run_function, args=(function, env))
        proc.start()
        code = _follow(daemon, agent_path, run_id, proc, beat)
        daemon.request("POST", agent_path + "/heartbeat",
                       {"running": [], "exited": [{"run": run_id, "exit_code": code}]})
        if code == 0:
            successes += 1
        else:
            failures += 1
            termwarn("run %s failed (exit code %s)" % (run_id, code))
        if successes == 0 and failures >= MAX_INITIAL_FAILURES:
            raise UsageError("the first %d runs all failed: stopping this agent" % failures)
    termlog("made %d runs (count): done" % made)
    return None


def _follow(daemon, agent_path, run_id, proc, beat):
    """Waits for one run's process, sending heartbeats; stops it when ordered. Its exit code,
    or None when a signal ended it."""
    term_at = None
    next_beat = time.monotonic() + beat
    while proc.is_alive():
        proc.join(0.1)
        now = time.monotonic()
        if now >= next_beat and proc.is_alive():
            next_beat = now + beat
            try:
                orders = daemon.request("POST", agent_path + "/heartbeat",
                                        {"running": [run_id], "exited": []})
            except Exception as exc:
                termwarn("heartbeat failed: %s" % exc)
                orders = {}
            if run_id in orders.get("stop", ()) and term_at is None:
                termlog("the sweep stops run %s" % run_id)
                proc.terminate()
                term_at = now
        if term_at is not None and now - term_at > STOP_GRACE and proc.is_alive():
            proc.kill()
            term_at = float("inf")
    code = proc.exitcode
    return code if code is not None and code >= 0 else None
