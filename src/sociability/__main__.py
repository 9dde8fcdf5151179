"""``python -m sociability`` runs the command-line interface."""

from .cli import main

main()
