"""``python -m mlreef_core``: the ``mlreef`` command."""

from mlreef_core._cli import main

main()
