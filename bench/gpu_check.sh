#!/usr/bin/env bash
# GPU smoke check: trains a small timm model with --amp and --channels-last on CUDA and
# reports images/s and peak GPU memory. Without a GPU it says so and exits 0.
# Usage: bench/gpu_check.sh [python]   (default: .venv/bin/python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
exec "$PY" bench/gpu_check.py
