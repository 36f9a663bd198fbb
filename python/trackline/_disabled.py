"""``init(mode="disabled")``: a run that records nothing but answers like a real one.

As in W&B, every call works and returns what a script expects -- ``run.config`` and
``run.summary`` are working in-memory dicts (with the same config rules), ``log()``, ``save()``,
``alert()``, ``define_metric()``, ``watch()``, ``finish()`` do nothing, artifact verbs return
Artifacts that are never stored -- and no file or folder is written. Attributes W&B's run has
and this one lacks resolve to a no-op callable.
"""

import os
import threading
import time

from ._config import Config
from ._names import DEFAULT_PROJECT, new_run_id
from ._summary import Summary


class _Noop:
    """Callable, subscriptable stand-in returned for unknown attributes of a disabled run."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self

    def __setitem__(self, key, value):
        pass

    def __bool__(self):
        return False

    def __iter__(self):
        return iter(())

    def __repr__(self):
        return "<trackline disabled no-op>"


class DisabledRun:
    """The run of ``mode="disabled"``: same API as trackline.Run, no I/O."""

    def __init__(self, project=None, name=None, config=None, group=None, tags=None, notes=None,
                 job_type=None, run_id=None, allow_val_change=False, locked_keys=(),
                 on_finish=None):
        self.id = run_id or new_run_id()
        self._name = str(name) if name is not None else "disabled-run"
        self.project = project or DEFAULT_PROJECT
        self.group = group
        self._tags = tuple([tags] if isinstance(tags, str) else tags or ())
        self._notes = notes
        self.job_type = job_type
        self.config = Config(config)
        self.config._configure(allow_val_change=allow_val_change, locked=locked_keys)
        self.summary = Summary(threading.Lock())
        self.start_time = time.time()
        self.resumed = False
        self.state = "running"
        self._on_finish = on_finish
        self._dir = None

    # -- the run API, as no-ops ----------------------------------------------------------------
    def log(self, data=None, step=None, commit=None, sync=None):
        pass

    def finish(self, exit_code=None, quiet=None):
        if self.state == "running":
            self.state = "finished" if not exit_code else "failed"
            if self._on_finish is not None:
                self._on_finish(self)

    def save(self, glob_str=None, base_path=None, policy="live"):
        return True if glob_str is None else []

    def flush(self, *args, **kwargs):
        return True

    def log_code(self, root=".", name=None, include_fn=None, exclude_fn=None):
        return []

    def define_metric(self, name, step_metric=None, step_sync=None, hidden=None, summary=None,
                      goal=None, overwrite=None, **kwargs):
        from ._metrics import make_metric

        return make_metric(name, step_metric, step_sync, hidden, summary, goal, overwrite)

    def alert(self, title, text, level=None, wait_duration=None):
        return False

    def watch(self, models, criterion=None, log="gradients", log_freq=1000, idx=None,
              log_graph=False):
        return None

    def unwatch(self, models=None):
        return None

    def mark_preempting(self):
        return None

    # -- artifacts: built as usual, never stored (_artifacts.py) -------------------------------
    def log_artifact(self, artifact_or_path, name=None, type=None, aliases=None, tags=None):
        """The Artifact (built from a path when given one), not logged."""
        from ._artifacts import Artifact, artifact_from_path

        if isinstance(artifact_or_path, Artifact):
            return artifact_or_path
        return artifact_from_path(self, artifact_or_path, name, type)

    upsert_artifact = finish_artifact = log_artifact

    def use_artifact(self, artifact_or_name, type=None, aliases=None, use_as=None):
        """An empty Artifact of that name (nothing is read)."""
        from ._artifact_store import split_ref
        from ._artifacts import Artifact

        if isinstance(artifact_or_name, Artifact):
            return artifact_or_name
        _, name, _ = split_ref(str(artifact_or_name))
        return Artifact(name, type or "unspecified")

    def log_model(self, path, name=None, aliases=None):
        return self.log_artifact(path, name, "model", aliases)

    def use_model(self, name):
        """A path in the run's temporary folder (nothing is downloaded)."""
        from ._artifact_store import split_ref

        return os.path.join(self.dir, split_ref(str(name))[1])

    def link_artifact(self, artifact, target_path, aliases=None):
        return None

    def link_model(self, path, registered_model_name, name=None, aliases=None):
        return None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.finish(exit_code=None if exc_type is None else 1)
        return False

    # -- attributes ----------------------------------------------------------------------------
    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = None if value is None else str(value)

    @property
    def tags(self):
        return self._tags

    @tags.setter
    def tags(self, value):
        self._tags = tuple([value] if isinstance(value, str) else value or ())

    @property
    def notes(self):
        return self._notes

    @notes.setter
    def notes(self, value):
        self._notes = value

    @property
    def dir(self):
        """A temporary folder (made on first use, outside the data directory): scripts that
        write checkpoints into ``run.dir`` keep working."""
        if self._dir is None:
            import tempfile

            self._dir = tempfile.mkdtemp(prefix="trackline-disabled-")
        return self._dir

    @property
    def step(self):
        return 0

    entity = "local"
    mode = "disabled"
    disabled = True
    offline = False
    url = None
    project_url = None
    sweep_id = None
    sweep_url = None

    @property
    def path(self):
        return "local/%s/%s" % (self.project, self.id)

    def get_url(self):
        return None

    def get_project_url(self):
        return None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Noop()

    def __repr__(self):
        return "<trackline.DisabledRun %s/%s>" % (self.project, self.id)
