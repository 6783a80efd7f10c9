#!/usr/bin/env bash
# On the device machine: installs the carried wheels (.whl), points evonas at the carried
# Fashion-MNIST (.devdata), shows the GPU, and runs the command given, its log in $OUT/log.
#   device tool: command "bash benchmarks/device_run.sh python3 benchmarks/trainer_throughput.py"
#                carry [".whl", ".devdata"]
set -uo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 EVONAS_DATA="$PWD/.devdata"
nvidia-smi -L || true
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$@" 2>&1 | tee "${OUT:-/tmp}/log"
