"""Type stubs of the compiled module: the library's API as the Python package calls it."""

__version__: str

class InputError(ValueError): ...

def analyze(path: str, flags: list[str]) -> str:
    """The whole pipeline on one file; the command line's JSON."""

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
