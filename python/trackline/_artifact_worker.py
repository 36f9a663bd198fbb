"""The artifact worker: one background thread that hashes staged files and commits versions, so
``add_file`` and ``log_artifact`` cost the training loop about a plain copy (W&B also logs
artifacts in the background; ``Artifact.wait()`` and ``finish()`` wait for it).

Jobs run one at a time, in the order they were submitted: a version's commit comes after the
hashes of its files and after the commits logged before it, so version numbers follow the calls.
The thread is started on demand and ends when the queue is empty, so the interpreter's exit waits
for queued work and never for an idle thread. Where no thread can be started (interpreter
shutdown) or after a fork, a job runs at once in the caller.
"""

import collections
import os
import threading
from concurrent.futures import Future

_lock = threading.Lock()
_queue = collections.deque()  # (Future, fn, args)
_running = None  # the worker thread while there is work
_pid = os.getpid()
_idle = threading.Condition(_lock)


def _forget_after_fork():
    """A forked child starts with no worker and an empty queue (the parent's are not its own;
    its lock may have been held by the parent's worker at the fork)."""
    global _lock, _queue, _running, _pid, _idle
    _lock = threading.Lock()
    _idle = threading.Condition(_lock)
    _queue = collections.deque()
    _running = None
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def submit(fn, *args):
    """Run ``fn(*args)`` on the worker after the jobs before it; its Future."""
    global _running, _pid
    future = Future()
    with _lock:
        if _pid != os.getpid():  # a forked child: the parent's queue and thread are not ours
            _queue.clear()
            _running = None
            _pid = os.getpid()
        _queue.append((future, fn, args))
        if _running is None:
            thread = threading.Thread(target=_work, name="trackline-artifacts", daemon=False)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutdown: no new threads
                thread = None
            _running = thread
    if _running is None:
        _drain_here()
    return future


def drain():
    """Wait until every job submitted so far has run (their errors stay in their Futures)."""
    if threading.current_thread() is _running:
        return  # a job asking for the queue it runs in: what came before it has run
    with _lock:
        while _queue or _running is not None:
            if _running is None or _pid != os.getpid():
                break
            _idle.wait()
    _drain_here()


def _work():
    global _running
    while True:
        with _lock:
            if not _queue:
                _running = None
                _idle.notify_all()
                return
            job = _queue.popleft()
        _run(job)


def _drain_here():
    """Run what is queued in the calling thread (no worker could be started)."""
    while True:
        with _lock:
            if _running is not None or not _queue:
                return
            job = _queue.popleft()
        _run(job)


def _run(job):
    future, fn, args = job
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # kept for whoever waits; the worker goes on
        future.set_exception(exc)
    else:
        future.set_result(result)
