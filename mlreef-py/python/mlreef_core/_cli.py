"""The ``mlreef`` console script: the Rust ``mlreef`` command, run in this process."""

import signal
import sys

from mlreef_core._mlreef_core import _run_cli


def main() -> None:
    # Ctrl-C stops the command at once, as it stops the binary: Python's own handler would
    # only set a flag that the Rust code never looks at.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_run_cli(sys.argv))


if __name__ == "__main__":
    main()
