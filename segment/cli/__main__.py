"""``python -m segment.cli``."""

from . import main

main()
