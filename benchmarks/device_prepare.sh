#!/usr/bin/env bash
# Here (with network access to PyPI): prepares what a run on the device machine needs and
# its image lacks, in git-ignored folders that the device tool carries:
#   .whl/       wheels of evonas's dependencies missing there (deap, pymoo, scikit-learn and theirs),
#               for CPython 3.12 on x86-64, the versions installed here;
#   .devdata/   the Fashion-MNIST IDX files (from Debian's dataset-fashion-mnist).
# Then run a benchmark there with benchmarks/device_run.sh (see README, "On a GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
rm -rf .whl && mkdir -p .whl .devdata/fashion-mnist
version() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))"; }
for name in deap pymoo moocore cffi pycparser platformdirs alive-progress about-time graphemeu \
            autograd cma Deprecated scikit-learn joblib threadpoolctl; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
    "$name==$(version "$name")"
done
src=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
cp "$src"/*-ubyte.gz .devdata/fashion-mnist/
du -sh .whl .devdata
