"""Process-exit integration, installed once by the first ``init()``.

- ``atexit``: finishes the active run, with the exit code recorded below (0 if none).
- ``sys.excepthook``: an uncaught exception (KeyboardInterrupt included) first goes to the previous
  hook (the traceback is printed as usual), then finishes the active run as ``failed`` with exit
  code 1 (130 for KeyboardInterrupt), so the later atexit call is a no-op.
- ``sys.exit``: wrapped to remember a non-zero exit code of the main thread (as W&B does); the
  original function is then called. ``raise SystemExit(n)`` and ``os._exit`` are not seen.
- ``os.fork``: in a child process the active run is detached -- its calls are ignored and its
  exit does not finish the parent's run (Run also checks the pid before finishing).
"""

import atexit
import os
import sys
import threading

_installed = False
_exit_code = None
_current_run = None  # callable returning the active run or None


def install(current_run):
    """Install the hooks (once); ``current_run()`` returns the active Run or None."""
    global _installed, _current_run
    _current_run = current_run
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    _wrap_excepthook(sys.excepthook)
    _wrap_exit(sys.exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _wrap_excepthook(previous):
    def excepthook(exc_type, exc, tb):
        try:
            previous(exc_type, exc, tb)
        finally:
            code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
            _finish_active(code)

    excepthook.__wrapped__ = previous
    sys.excepthook = excepthook


def _wrap_exit(original):
    def exit(status=None):
        global _exit_code
        if threading.current_thread() is threading.main_thread():
            _exit_code = status
        original(status)

    exit.__wrapped__ = original
    exit.__doc__ = original.__doc__
    sys.exit = exit


def _after_fork_in_child():
    run = _current_run() if _current_run is not None else None
    if run is not None:
        run._detach()


def _at_exit():
    _finish_active(_code_of(_exit_code))


def _code_of(status):
    if status is None:
        return 0
    if isinstance(status, int):
        return int(status)
    return 1  # sys.exit("message") exits with status 1


def _finish_active(code):
    run = _current_run() if _current_run is not None else None
    if run is None:
        return
    try:
        run.finish(exit_code=code)
    except Exception as exc:  # never turn the exit into a second traceback
        sys.stderr.write("trackline: could not finish run %s: %r\n" % (run.id, exc))
