"""The CUDA paths of the deep engine (AMP, channels-last, compile) on a real GPU.

Prints one line per configuration: images/s of the last epoch (from metrics.csv) and
peak GPU memory; then a synchronisation audit: one run under ``torch.cuda.set_sync_debug_mode``
counts the calls that make the host wait for the device, by source line, and flags any line that
syncs about once per optimizer update (the training loop must not; the running loss is read every
32 updates). Exits 1 when such a line exists, 0 with a message where no GPU is present.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import warnings
from collections import Counter
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
        return sync_audit(Path(tmp) / "sync")


def sync_audit(out: Path) -> int:
    """Count host-device synchronisations by source line during a short run (batch 16: many updates)."""
    import torch

    import foveal
    from foveal.progress import quiet

    with quiet(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            result = foveal.train("textures", model="resnet18", image_size=64, epochs=2, batch_size=16, amp=True,
                                  out=str(out), report=False)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    updates = json.loads((result.bundle / "foveal.json").read_text())["training"]["updates"]
    lines = Counter(f"{w.filename}:{w.lineno}" for w in caught if "synchroniz" in str(w.message))
    per_step = {line: n for line, n in lines.items() if n >= updates / 2}
    print(f"sync audit: {sum(lines.values())} synchronising calls over {updates} updates, "
          f"{len(lines)} source lines")
    for line, n in lines.most_common(8):
        print(f"  {n:6d}  {line}{'   <- about once per update' if line in per_step else ''}")
    return 1 if per_step else 0


if __name__ == "__main__":
    sys.exit(main())
