"""The `shuntscope` command installed by the wheel: the same CLI as the Rust binary."""

import sys

from . import _native


def main() -> None:
    sys.exit(_native.main(sys.argv[1:]))


if __name__ == "__main__":
    main()
