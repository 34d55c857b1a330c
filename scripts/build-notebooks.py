"""Executes the notebooks in notebooks/ with the Berth kernel and saves them
with their outputs, so they read well on a code host. Run as root after
`npm run setup`:  /usr/bin/python3 scripts/build-notebooks.py"""
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

root = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
for path in sorted(root.glob("*.ipynb")) if len(sys.argv) == 1 else map(pathlib.Path, sys.argv[1:]):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="berth", resources={"metadata": {"path": str(root)}}).execute()
    nbformat.write(nb, path)
    print(f"executed {path.name}")
