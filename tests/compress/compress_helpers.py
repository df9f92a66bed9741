"""Helpers for the compression tests (a plain module: conftest names are ambiguous across folders)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

NO_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "timm", "torch_pruning"):
            raise ImportError("torch is blocked in this test: " + name)
sys.meta_path.insert(0, Block())
from foveal.cli import main
code = main(sys.argv[1:])
sys.stderr.write("\\nTORCH-MODULES " + str(sorted(m for m in sys.modules if m.split(".")[0] == "torch")) + "\\n")
sys.exit(code)
"""


def manifest(bundle: Path) -> dict:
    return json.loads((Path(bundle) / "foveal.json").read_text())


def cli_without_torch(*args, cwd: Path | None = None):
    """Run the CLI in a fresh interpreter where importing torch raises ImportError."""
    import subprocess

    return subprocess.run([sys.executable, "-c", NO_TORCH, *[str(a) for a in args]], capture_output=True, text=True,
                          cwd=cwd, timeout=120)
