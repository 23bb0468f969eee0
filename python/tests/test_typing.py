"""The package is typed: its stubs name every flag of the command line as a typed keyword
argument (checked against the CLI's own flag table), and mypy --strict accepts a user's code and
rejects misuse."""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shuntscope
from shuntscope import _native

HERE = Path(__file__).resolve().parent
STUB = Path(shuntscope.__file__).with_name("__init__.pyi")


def keywords(function: str) -> dict[str, str]:
    """The keyword-only parameters of a function in the stub, with their annotations."""
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return {a.arg: ast.unparse(a.annotation) for a in node.args.kwonlyargs}
    raise AssertionError(f"{function} not in {STUB}")


def cli_flags(sub: str, drop: set[str]) -> dict[str, tuple[bool, bool]]:
    return {n: (v, r) for n, v, r in _native.flags(sub) if n not in drop}


def check(function: str, want: dict[str, tuple[bool, bool]]) -> None:
    got = keywords(function)
    assert set(got) == set(want), f"{function}: stub only {set(got) - set(want)}, CLI only {set(want) - set(got)}"
    for name, (takes_value, repeats) in want.items():
        t = got[name]
        if not takes_value:
            assert t.startswith("bool"), f"{name}: a switch, typed {t}"
        if repeats:
            assert "Sequence" in t, f"{name}: repeatable, typed {t}"


def test_the_stubs_name_every_flag_of_the_command_line():
    # Python's own keywords: threads (a pool per call), client (a Dask cluster).
    python_only = {"threads": (True, False)}
    check("analyze", {**cli_flags("analyze", {"format", "output", "quiet", "force", "view"}), **python_only})
    check(
        "batch",
        {**cli_flags("batch", {"out", "quiet", "force", "no_summary"}), **python_only, "client": (True, False), "files_per_task": (True, False)},
    )
    ingest = cli_flags("inspect", {"format", "port"})
    ingest.update({k: (True, False) for k in ("shunt_ohms", "gain", "offset_mv")})
    check("read", ingest)


def test_the_package_ships_its_types():
    assert Path(shuntscope.__file__).with_name("py.typed").exists()
    assert Path(_native.__file__).with_name("_native.pyi").exists() or Path(shuntscope.__file__).with_name("_native.pyi").exists()


def mypy(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", str(path)],
        capture_output=True,
        text=True,
    )


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None and not os.environ.get("CI"),
    reason="mypy is not installed (CI installs it, and there this test never skips)",
)
def test_mypy_strict_accepts_a_users_code_and_rejects_misuse():
    ok = mypy(HERE / "typing" / "usage.py")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = mypy(HERE / "typing" / "misuse.py")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    # One error per misuse, each on its own line.
    lines = {int(l.split(":")[1]) for l in bad.stdout.splitlines() if "misuse.py:" in l and ": error:" in l}
    assert lines == {5, 6, 7, 8}, bad.stdout
