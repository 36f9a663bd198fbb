#!/bin/sh
# The heavy W&B examples (tests/examples/heavy/: Lightning WandbLogger, transformers Trainer,
# accelerate), each run under the real wandb (offline) and under Trackline and compared by
# tests/test_examples_wandb.py. They need torch, lightning, transformers and accelerate (~3 GB),
# so CI skips them; this script makes a venv with them when missing and runs them.
#
#   python/bench/heavy_examples.sh   # venv at $HEAVY_VENV (default ~/.cache/trackline/heavy-venv)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${HEAVY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/trackline/heavy-venv}
python=$venv/bin/python
if ! "$python" -c "import torch, lightning, transformers, accelerate, stable_baselines3, wandb" 2>/dev/null; then
    echo "heavy_examples: making $venv (torch, lightning, transformers, accelerate)"
    python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q torch lightning transformers accelerate stable-baselines3 gymnasium
fi
"$python" -c "import torch, lightning, transformers, accelerate, wandb; print('heavy_examples: torch', torch.__version__, '| lightning', lightning.__version__, '| transformers', transformers.__version__, '| accelerate', accelerate.__version__, '| wandb', wandb.__version__)"
cd "$here"
start=$(date +%s)
status=0
TRACKLINE_HEAVY_PYTHON=$python "$python" -m pytest -rxs -p no:cacheprovider \
    tests/test_examples_wandb.py tests/test_integrations_sb3.py -k "heavy or sb3" -v 2>&1 | tee /tmp/heavy_examples.$$.log | \
    grep -E "PASSED|FAILED|XFAIL|SKIPPED|ERROR|passed|failed" || true
grep -qE "[0-9]+ failed|ERROR" /tmp/heavy_examples.$$.log && status=1
echo "heavy_examples: $(( $(date +%s) - start ))s; full log /tmp/heavy_examples.$$.log"
exit $status
