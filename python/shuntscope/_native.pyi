"""Type stubs of the compiled module: the library's API as the Python package calls it."""

__version__: str

class InputError(ValueError): ...

def analyze(path: str, flags: list[str], threads: int = 0) -> str:
    """The whole pipeline on one file on a pool of `threads` threads (0: one per core); the
    command line's JSON."""

def plan(argv: list[str]) -> str:
    """The plan of a `batch` command line as JSON (summary settings, inputs, shard, jobs);
    settings and input errors raise here."""

def run_job(job: str, threads: int) -> tuple[str, int]:
    """One job of a plan: the file's outcome as JSON, and the size of the pool it ran on."""

def run_jobs(jobs: list[str], threads: int) -> list[str]:
    """Jobs of a plan one after another on one pool (kept for later calls): their outcomes."""

def write_report(plan: str, outcomes: list[str], out: str, force: bool) -> None:
    """The report folder of a plan and its jobs' outcomes (in the jobs' order)."""

def read(
    path: str, flags: list[str], shunt_ohms: float | None = None
) -> tuple[list[str], list[list[bytes]]]:
    """Column names, and per column its chunks as little-endian f64 buffers."""

def run(argv: list[str]) -> int:
    """Run a command of the command line in this process (files read, not mapped); its exit
    code. Usage errors raise TypeError, bad input InputError."""

def main(argv: list[str]) -> int:
    """The `shuntscope` command: messages and exit codes as the binary's."""

def formats() -> list[tuple[str, str]]:
    """(name, description) of each input format."""

def flags(subcommand: str) -> list[tuple[str, bool, bool]]:
    """The long flags of a subcommand: (name with underscores, takes a value, repeats)."""
