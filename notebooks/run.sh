#!/usr/bin/env bash
# Build shuntscope if needed, run the batch on samples/seed and samples/paired, and execute every notebook headless
# in a virtual environment with notebooks/requirements.txt; any cell error fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=notebooks/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r notebooks/requirements.txt
# The shuntscope package itself (built from this checkout).
"$venv/bin/pip" install -q --disable-pip-version-check .
cargo build --release --locked --quiet
report=target/notebook-report
target/release/shuntscope batch samples/seed --out "$report" --force -q > /dev/null
paired=target/notebook-report-paired
target/release/shuntscope batch samples/paired --out "$paired" --force -q > /dev/null
export SHUNTSCOPE_REPORT="$PWD/$report" SHUNTSCOPE_PAIRED_REPORT="$PWD/$paired" SHUNTSCOPE_HEADLESS=1
"$venv/bin/python" - <<'PY'
import sys, nbformat
from nbclient import NotebookClient
from pathlib import Path
failed = 0
for path in sorted(Path("notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}).execute()
        print(f"{path}: ok ({len(nb.cells)} cells)")
    except Exception as e:
        failed += 1
        print(f"{path}: FAILED: {str(e).splitlines()[-1] if str(e) else e}")
total = len(list(Path("notebooks").glob("*.ipynb")))
print(f"notebooks: {total - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
