"""Serving benchmark: micro-batching on vs off, and the server's overhead over a direct Predictor call.

1. 16 concurrent clients send single images to a resnet18 bundle at 64 px: requests per second of
   `foveal serve` with micro-batching (--max-batch 32) against the same server with it off
   (--max-batch 1), in alternating rounds after a warm-up (target: ≥ 3×).
2. One image at a time: p50 latency through HTTP against `Predictor.predict_bytes` on the same bytes
   in this process, alternating blocks (target: ≤ 1.5×).

Run with `make bench` (or `python bench/serve.py [--bundle DIR]`); about two minutes on 2 cores.
Every process (this one and both servers) runs with OMP_WAIT_POLICY=PASSIVE unless it is set: on a
shared 2-core machine OpenMP's spin-waiting made 2-thread inference 5-40x slower at random moments,
which drowned both comparisons in noise; the setting is the same on both sides of each ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CLIENTS = 16
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported here or in the servers


def train_bundle(folder: Path) -> Path:
    """A resnet18 bundle at 64 px (one short epoch on 300 digits: the weights' quality does not matter here)."""
    import foveal
    from foveal.data.export import export_dataset
    from foveal.data.load import load_dataset

    from foveal.progress import quiet

    export_dataset(load_dataset("digits").subset(list(range(300))), folder / "data", "folder")
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch is short on purpose
        result = foveal.train(str(folder / "data"), model="resnet18", image_size=64, epochs=1,
                              out=str(folder / "run"), report=False)
    return Path(result.bundle)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bundle: Path, max_batch: int, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "foveal", "serve", f"resnet={bundle}", "--port", str(port),
                             "--max-batch", str(max_batch), "--rate-limit", "0"],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not get ready")


async def load_round(url: str, images: list[bytes], per_client: int) -> tuple[float, int]:
    """(seconds, answered) for CLIENTS concurrent clients sending ``per_client`` single-image requests each."""
    import httpx

    async def client(offset: int) -> int:
        ok = 0
        async with httpx.AsyncClient(timeout=120) as http:
            for i in range(per_client):
                answer = await http.post(f"{url}/v1/models/resnet/predict", content=images[(offset + i) % len(images)],
                                         headers={"Content-Type": "image/png"})
                ok += answer.status_code == 200
        return ok

    start = time.perf_counter()
    answered = sum(await asyncio.gather(*(client(c) for c in range(CLIENTS))))
    return time.perf_counter() - start, answered


def throughput(urls: dict[str, str], images: list[bytes], rounds: int, per_client: int) -> dict[str, float]:
    for url in urls.values():  # warm-up
        asyncio.run(load_round(url, images, 3))
    seconds = {mode: 0.0 for mode in urls}
    count = {mode: 0 for mode in urls}
    for r in range(rounds):
        for mode, url in urls.items():
            elapsed, answered = asyncio.run(load_round(url, images, per_client))
            if answered != CLIENTS * per_client:
                raise SystemExit(f"{mode}: {CLIENTS * per_client - answered} requests failed")
            seconds[mode] += elapsed
            count[mode] += answered
            print(f"  round {r + 1} {mode:>12}: {answered / elapsed:7.1f} img/s", flush=True)
    return {mode: count[mode] / seconds[mode] for mode in urls}


def overhead(url: str, bundle: Path, images: list[bytes], pairs: int = 150) -> tuple[float, float]:
    """p50 seconds of one image through HTTP and through Predictor.predict_bytes, alternating request by request
    (so both see the same machine load)."""
    import httpx

    import foveal

    predictor = foveal.load_bundle(bundle)
    direct, http_times = [], []
    with httpx.Client(timeout=60) as http:
        for i in range(pairs + 10):  # the first 10 pairs warm both paths up
            data = images[i % len(images)]
            start = time.perf_counter()
            predictor.predict_bytes(data, name="x")
            middle = time.perf_counter()
            answer = http.post(f"{url}/v1/models/resnet/predict", content=data, headers={"Content-Type": "image/png"})
            end = time.perf_counter()
            assert answer.status_code == 200
            if i >= 10:
                direct.append(middle - start)
                http_times.append(end - middle)
    return float(np.median(http_times)), float(np.median(direct))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="a resnet18 bundle at 64 px (default: train one)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = args.bundle or train_bundle(tmp)
        images = [p.read_bytes() for p in sorted((tmp / "data").rglob("*.png"))[:64]] if not args.bundle else []
        if not images:  # a given bundle: any small real PNGs will do
            from foveal.data.export import export_dataset
            from foveal.data.load import load_dataset

            export_dataset(load_dataset("digits").subset(list(range(64))), tmp / "imgs", "folder")
            images = [p.read_bytes() for p in sorted((tmp / "imgs").rglob("*.png"))]
        servers = {mode: start_server(bundle, size, tmp / f"{mode}.log") for mode, size in
                   (("batching on", 32), ("batching off", 1))}
        try:
            print(f"{CLIENTS} clients, single images, resnet18 at 64 px "
                  f"(OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}):")
            rates = throughput({m: url for m, (_, url) in servers.items()}, images, args.rounds, args.per_client)
            http_p50, direct_p50 = overhead(servers["batching on"][1], bundle, images)
        finally:
            for proc, _ in servers.values():
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    on, off = rates["batching on"], rates["batching off"]
    print(f"micro-batching: {on:.1f} img/s on vs {off:.1f} img/s off -> {on / off:.2f}x (target >= 3x)")
    print(f"one image, p50: HTTP {http_p50 * 1000:.2f} ms vs Predictor.predict_bytes {direct_p50 * 1000:.2f} ms "
          f"-> {http_p50 / direct_p50:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
