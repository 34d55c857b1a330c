#!/usr/bin/env bash
# `npm start`: set-up, the Berth kernelspec, then Jupyter Notebook on
# 127.0.0.1 with notebooks/ open. Jupyter prints the URL (with its token).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Root installs the kernel for everyone; any other user for themselves,
# and their kernel then runs rootless (see native/src/shim/rootless.h).
if [ "$(id -u)" = 0 ]; then
  node dist/kernel/cli/main.js install
  as_root=(--allow-root)
else
  node dist/kernel/cli/main.js install --user
  as_root=()
fi
port=${BERTH_NOTEBOOK_PORT:-8888}
echo "[start] Jupyter Notebook on http://127.0.0.1:${port}/ (notebooks/, kernel \"Berth (containers)\"); Ctrl-C stops it"
exec jupyter-notebook --ip=127.0.0.1 --port="$port" --no-browser "${as_root[@]}" --notebook-dir="$PWD/notebooks"
