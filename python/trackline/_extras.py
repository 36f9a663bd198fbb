"""A run's optional background work: system metrics (:mod:`._system`), console capture
(:mod:`._console`, flushed in the flusher's cycle) and streaming to a remote daemon
(:mod:`._remote`, woken by the flusher's cycle), and the settings that switch each on.

Each part lives in its own module and is imported only when used, so ``import trackline`` stays
light; a part that fails to start warns and stays off.
"""

import os

from . import _env
from ._errors import warn

_TRUE = ("1", "true", "yes", "on")


def setting(settings, *names):
    """The first of ``names`` set in ``settings`` (a dict, or an object such as wandb.Settings)."""
    if settings is None:
        return None
    for name in names:
        if isinstance(settings, dict):
            value = settings.get(name)
        else:
            value = getattr(settings, name, None)
        if value is not None:
            return value
    return None


def _positive(value, what):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = -1.0
    if value > 0 and value != float("inf"):
        return value
    warn("ignoring %s (not a positive number of seconds)" % what, 5)
    return None


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


def system_interval(settings):
    """Seconds between system samples, or None when system metrics are off."""
    off = setting(settings, "_disable_stats", "x_disable_stats", "disable_stats")
    if off is not None:
        if _truthy(off):
            return None
    elif _truthy(_env.get(_env.DISABLE_SYSTEM) or ""):
        return None
    from ._system import SYSTEM_INTERVAL

    value = setting(settings, "system_interval", "_stats_sample_rate_seconds",
                    "x_stats_sampling_interval")
    if value is not None:
        return _positive(value, "settings system_interval=%r" % (value,)) or SYSTEM_INTERVAL
    raw = _env.get(_env.SYSTEM_INTERVAL)
    if raw:
        return _positive(raw, "TRACKLINE_SYSTEM_INTERVAL=%r" % raw) or SYSTEM_INTERVAL
    return SYSTEM_INTERVAL


def console_enabled(settings):
    value = setting(settings, "console")
    if value is None:
        value = _env.console() or ""
    return str(value).strip().lower() not in ("off", "0", "false", "no")


def remote_target(settings, mode):
    """``(url, api_key)`` when the run streams to a daemon, else None.

    Online when ``mode="online"`` (init argument, else settings ``mode``, else $TRACKLINE_MODE), or
    when no mode is given and $TRACKLINE_URL (settings ``base_url``) is set."""
    if mode is None:
        mode = setting(settings, "mode") or _env.get(_env.MODE)
    url = setting(settings, "base_url", "url") or _env.get(_env.URL)
    mode = None if mode is None else str(mode).strip().lower()
    if mode in ("offline", "disabled", "dryrun"):
        return None
    if mode == "online" and not url:
        warn("mode='online' needs TRACKLINE_URL=http://host:port; this run is written locally only", 5)
        return None
    if not url:
        return None
    key = setting(settings, "api_key") or _env.get(_env.API_KEY)
    return str(url), key


class Extras:
    """A run's optional background work: system metrics, console capture, remote upload.

    Started at the end of Run.__init__; :meth:`stop` is called by finish() before the final flush
    (stops sampling, puts sys.stdout/sys.stderr back), :meth:`close` after the final run.json
    (uploads what is left, for a bounded time). A part that fails to start warns and stays off."""

    def __init__(self, run, settings=None, mode=None):
        self._run = run
        self._flusher = run._flusher
        self.system = None
        self.console = None
        self.uploader = None
        interval = system_interval(settings)
        if interval is not None:
            try:
                from ._system import SystemMonitor

                self.system = SystemMonitor(
                    os.path.join(run.dir, "system.jsonl"), run.start_time, interval
                )
            except Exception as exc:
                warn("system metrics are off: %r" % (exc,), 4)
        if console_enabled(settings):
            try:
                from ._console import Capture

                self.console = Capture(os.path.join(run.dir, "console.log"), self._flusher.wake)
                self._flusher.add_task(self.console.flush)
            except Exception as exc:
                warn("console capture is off: %r" % (exc,), 4)
        target = remote_target(settings, mode)
        if target is not None:
            try:
                from ._remote import Uploader

                self.uploader = Uploader(
                    run.dir, run.project, run.id, target[0], target[1],
                )
                self._flusher.add_task(self.uploader.wake)
            except Exception as exc:
                warn("remote upload is off: %r" % (exc,), 4)

    def stop(self):
        """Before the final flush: stop sampling and capturing (idempotent)."""
        if self.system is not None:
            self.system.stop()
            self.system = None
        if self.console is not None:
            self._flusher.remove_task(self.console.flush)
            try:
                self.console.stop()
            except Exception as exc:
                warn("could not write console.log: %r" % (exc,), 4)
            self.console = None

    def close(self):
        """After the final run.json: upload what is left (bounded wait), report what was not."""
        self.stop()
        if self.uploader is not None:
            self._flusher.remove_task(self.uploader.wake)
            self.uploader.finish()
            self.uploader = None
