"""The CUDA paths of the deep engine (AMP, channels-last, compile) on a real GPU.

Prints one line per configuration: images/s of the last epoch (from metrics.csv) and
peak GPU memory. Exits 0 with a message where no GPU is present.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

CONFIGS = [
    ("fp32", {}),
    ("amp", {"amp": True}),
    ("amp+channels-last", {"amp": True, "channels_last": True}),
    ("amp+channels-last+compile", {"amp": True, "channels_last": True, "compile": True}),
]


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; nothing to check")
        return 0
    import foveal
    from foveal.progress import quiet

    print(f"gpu_check: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp, quiet():
        for name, options in CONFIGS:
            torch.cuda.reset_peak_memory_stats()
            result = foveal.train("textures", model="resnet18", image_size=64, epochs=3, batch_size=256,
                                  out=str(Path(tmp) / name), **options)
            rows = list(csv.DictReader(open(result.run_dir / "metrics.csv")))
            speed = float(rows[-1]["images_per_s"])
            peak = torch.cuda.max_memory_allocated() / 2**20
            acc = result.metrics["metrics"]["accuracy"]
            print(f"{name:<28} {speed:10.0f} images/s   peak {peak:8.0f} MiB   val accuracy {acc:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
