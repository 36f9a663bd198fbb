"""``wandb.sdk.lib.telemetry``: integrations mark which features they use
(``with telemetry.context(run=run) as tel: tel.feature.keras = True``). Trackline sends no
telemetry anywhere, so the record they fill is kept on the context object and goes nowhere."""


class TelemetryRecord:
    """Any attribute path can be set (``tel.feature.keras = True``) and read back."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        child = TelemetryRecord()
        object.__setattr__(self, name, child)
        return child


class _Context:
    def __init__(self, run=None, obj=None):
        self.run = run
        self.record = obj if obj is not None else TelemetryRecord()

    def __enter__(self):
        return self.record

    def __exit__(self, *exc):
        return False


def context(run=None, obj=None):
    """A context manager yielding a :class:`TelemetryRecord` (kept local: nothing is sent)."""
    return _Context(run=run, obj=obj)
