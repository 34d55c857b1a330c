#!/usr/bin/env bash
# `npm start`: set-up, the Berth kernelspec, then Jupyter Notebook on
# 127.0.0.1 with notebooks/ open. Jupyter prints the URL (with its token).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/kernel/cli/main.js install
port=${BERTH_NOTEBOOK_PORT:-8888}
echo "[start] Jupyter Notebook on http://127.0.0.1:${port}/ (notebooks/, kernel \"Berth (containers)\"); Ctrl-C stops it"
exec jupyter-notebook --ip=127.0.0.1 --port="$port" --no-browser --allow-root --notebook-dir="$PWD/notebooks"
