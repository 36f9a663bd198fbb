"""``python -m trackline``: the client's own commands (the daemon's are the ``trackline`` binary).

- ``run -- CMD ARGS…``: run a command in which ``import wandb`` is Trackline (see ``_as_wandb``);
- ``shim env``: print the ``export`` line that does the same for a shell;
- ``shim install`` / ``shim uninstall``: the permanent opt-in switch (a ``.pth`` line; a real
  wandb, when installed, still wins);
- ``shim path``: the shim folder.
"""

import shlex
import sys

from . import _as_wandb
from ._errors import UsageError

USAGE = ("usage: python -m trackline run -- COMMAND [ARGS...]\n"
         "       python -m trackline shim env|path|install|uninstall")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["run"]:
            return _as_wandb.run_command(argv[1:])
        if argv[:1] == ["shim"] and len(argv) == 2:
            what = argv[1]
            if what == "env":
                print('export PYTHONPATH=%s"${PYTHONPATH:+:$PYTHONPATH}" %s=1'
                      % (shlex.quote(_as_wandb.SHIM_DIR), _as_wandb.ENV_FLAG))
                return 0
            if what == "path":
                print(_as_wandb.SHIM_DIR)
                return 0
            if what == "install":
                print("installed %s: `import wandb` is Trackline where no real wandb is installed"
                      % _as_wandb.install())
                return 0
            if what == "uninstall":
                removed = _as_wandb.uninstall()
                print("removed %s" % removed if removed else "the switch was not installed")
                return 0
    except UsageError as e:
        print("trackline: %s" % e, file=sys.stderr)
        return 2
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
