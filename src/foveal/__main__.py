"""``python -m foveal``."""

from foveal.cli import run

run()
