"""Every fault the server must refuse, each with its status and a JSON error body, and `/healthz`
still answering afterwards; memory stays flat when a 50 MB body arrives."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from server_helpers import Server, bomb_png, free_port, png_bytes

KEY = "k-" + "7" * 30


def predict_url(server, model="digits"):
    return f"{server.url}/v1/models/{model}/predict"


def raw(server, data: bytes, content_type="image/png", **kw):
    return httpx.post(predict_url(server), content=data, headers={"Content-Type": content_type, **kw}, timeout=60)


def assert_refused(answer, status: int, code: str, server) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert server.alive()


def peak_rss_mb(server) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_broken_images(served, digits_folder):
    good = sorted((digits_folder / "test").rglob("*.png"))[0].read_bytes()
    assert_refused(raw(served, b""), 422, "empty_image", served)
    assert_refused(raw(served, good[: len(good) // 2]), 422, "undecodable_image", served)
    assert_refused(raw(served, b"just some text, named photo.png"), 415, "not_an_image", served)
    assert_refused(raw(served, bomb_png()), 413, "image_too_large", served)  # Pillow's own cap, from the header
    big = png_bytes(np.zeros((1100, 1000, 1), dtype=np.uint8))  # 1.1 MP over --max-pixels 1000000
    assert_refused(raw(served, big), 413, "image_too_large", served)
    assert_refused(raw(served, good, content_type="text/plain"), 415, "unsupported_media_type", served)


def test_fifty_megabyte_bodies_are_refused_while_streaming(served):
    before = peak_rss_mb(served)
    body = b"\0" * (50 * 1024 * 1024)
    assert_refused(raw(served, body), 413, "body_too_large", served)  # by Content-Length, nothing read

    def chunks():
        for start in range(0, len(body), 1024 * 1024):
            yield body[start:start + 1024 * 1024]

    chunked = httpx.post(predict_url(served), content=chunks(), headers={"Content-Type": "image/png"}, timeout=60)
    assert_refused(chunked, 413, "body_too_large", served)  # no length: cut off as it streams
    def multipart_chunks():
        yield b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n\r\n'
        yield from chunks()
        yield b"\r\n--xyz--\r\n"

    multipart_chunked = httpx.post(predict_url(served), timeout=60, content=multipart_chunks(),
                                   headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert_refused(multipart_chunked, 413, "body_too_large", served)
    assert peak_rss_mb(served) - before < 40  # never buffered whole (the limit is 16 MB)


def test_malformed_and_oversized_forms(served, digits_folder):
    good = sorted((digits_folder / "test").rglob("*.png"))[0].read_bytes()
    no_boundary = raw(served, b"--x\r\n", content_type="multipart/form-data")
    assert_refused(no_boundary, 400, "malformed_multipart", served)
    garbage = raw(served, b"this is not multipart at all", content_type="multipart/form-data; boundary=abc")
    assert_refused(garbage, 400, "malformed_multipart", served)
    cut = (b"--abc\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n"
           b"Content-Type: image/png\r\n\r\n" + good)  # no closing boundary
    assert_refused(raw(served, cut, content_type="multipart/form-data; boundary=abc"), 400, "malformed_multipart", served)
    fields = {f"field{i}": "x" for i in range(5000)}
    many_fields = httpx.post(predict_url(served), data=fields, files={"files": ("a.png", good, "image/png")}, timeout=60)
    assert_refused(many_fields, 413, "too_many_fields", served)
    nine = [("files", (f"{i}.png", good, "image/png")) for i in range(9)]
    assert_refused(httpx.post(predict_url(served), files=nine, timeout=60), 413, "too_many_files", served)
    only_text = b'--abc\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--abc--\r\n'
    no_file = raw(served, only_text, content_type="multipart/form-data; boundary=abc")
    assert_refused(no_file, 422, "no_image", served)
    assert_refused(httpx.post(predict_url(served) + "?top_k=0", content=good, headers={"Content-Type": "image/png"}),
                   422, "invalid_parameter", served)


@pytest.fixture(scope="module")
def strict(tmp_path_factory, digits_bundle):
    """Keys required, 5 requests/s per client (burst 30), a 0.5 s timeout and a model that can be made slow."""
    tmp = tmp_path_factory.mktemp("strict")
    (tmp / "keys.txt").write_text(f"# clients\n{KEY}\n")
    port = free_port()
    script = Path(__file__).with_name("slow_server.py")
    server = Server([str(script), str(digits_bundle), str(port), str(tmp / "keys.txt")], port,
                    tmp / "strict.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.proc.poll() is None:  # /readyz is open without a key
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield server
    server.stop()


def test_api_keys(strict, digits_folder):
    image = sorted((digits_folder / "test").rglob("*.png"))[0].read_bytes()
    assert_refused(raw(strict, image), 401, "missing_api_key", strict)
    assert_refused(raw(strict, image, **{"X-API-Key": KEY + "x"}), 401, "invalid_api_key", strict)
    assert_refused(httpx.get(f"{strict.url}/metrics"), 401, "missing_api_key", strict)
    assert raw(strict, image, **{"X-API-Key": KEY}).status_code == 200
    assert raw(strict, image, Authorization=f"Bearer {KEY}").status_code == 200
    assert httpx.get(f"{strict.url}/").status_code == 200  # the page shell itself is open; its API calls are not


def test_slow_inference_gets_503_while_others_are_served(strict, digits_folder):
    white = png_bytes(np.full((8, 8, 1), 255, dtype=np.uint8))
    digit = sorted((digits_folder / "test").rglob("*.png"))[0].read_bytes()
    headers = {"Content-Type": "image/png", "X-API-Key": KEY}
    slow_answer = {}

    def slow_request():
        slow_answer["r"] = httpx.post(predict_url(strict, "slow"), content=white, headers=headers, timeout=30)

    thread = threading.Thread(target=slow_request)
    start = time.monotonic()
    thread.start()
    time.sleep(0.1)
    other = httpx.post(predict_url(strict, "digits"), content=digit, headers=headers, timeout=30)
    assert other.status_code == 200 and time.monotonic() - start < 2.5  # served while `slow` is stuck (3 s)
    thread.join()
    assert time.monotonic() - start < 2.5  # the 0.5 s timeout answered before the inference ended
    assert_refused(slow_answer["r"], 503, "inference_timeout", strict)
    assert slow_answer["r"].headers["retry-after"] == "1"
    time.sleep(max(0.0, start + 3.2 - time.monotonic()))  # the stuck inference finishes; the model serves again
    assert httpx.post(predict_url(strict, "slow"), content=digit, headers=headers, timeout=30).status_code == 200


def test_a_burst_over_the_rate_limit_gets_429(strict):
    start = time.monotonic()
    with httpx.Client(headers={"X-API-Key": KEY}) as client:
        answers = [client.get(f"{strict.url}/v1/models") for _ in range(60)]
    elapsed = time.monotonic() - start
    statuses = [a.status_code for a in answers]
    assert statuses[0] == 200 and 429 in statuses
    assert statuses.count(200) <= 30 + 5 * elapsed + 1  # burst 30, then 5 per second
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert_refused(refused, 429, "rate_limited", strict)  # and /healthz (never limited) still answers


def test_serving_beyond_localhost_needs_a_key(capsys, digits_bundle, tmp_path):
    from helpers import run_cli

    code, _, err = run_cli(capsys, "serve", digits_bundle, "--host", "0.0.0.0", "--port", str(free_port()))
    assert code == 2 and "--api-key-file" in err and "0.0.0.0" in err
    (tmp_path / "short.txt").write_text("abc\n")
    code, _, err = run_cli(capsys, "serve", digits_bundle, "--host", "0.0.0.0", "--api-key-file",
                           tmp_path / "short.txt")
    assert code == 2 and "shorter than 16" in err
    code, _, err = run_cli(capsys, "serve", f"a={digits_bundle}", f"a={digits_bundle}")
    assert code == 2 and "two models are named 'a'" in err
