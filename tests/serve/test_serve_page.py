"""The web page in headless Chromium against a real server: upload a PNG (file picker and drag and
drop), see the label and bars, correct it, find it in SQLite, see it on the feedback page, export the
feedback and train on it."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import httpx
import pytest

from browser import browser_tab
from helpers import run_cli

@pytest.fixture(scope="module")
def page(served):
    with browser_tab() as tab:
        yield tab


def api_prediction(served, data: bytes) -> str:
    answer = httpx.post(f"{served.url}/v1/models/digits/predict", content=data, headers={"Content-Type": "image/png"})
    return answer.json()["results"][0]["prediction"]


def drop_file(tab, name: str, data: bytes) -> None:
    """A real drop event on the drop zone carrying a File, as a user's drag and drop does."""
    transfer = tab.evaluate_handle("""([name, bytes]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
        return dt; }""", [name, list(data)])
    tab.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


def test_page_predicts_takes_a_correction_and_the_loop_closes(page, served, digits_folder, tmp_path, capsys):
    three = sorted((digits_folder / "test" / "3").glob("*.png"))[0]
    seven = sorted((digits_folder / "test" / "7").glob("*.png"))[0]
    page.goto(served.url)
    page.wait_for_selector("#model option[value=digits]", state="attached")
    page.set_input_files("#files", str(three))
    card = page.locator(".card").first
    card.locator(".bars li").first.wait_for()
    predicted = api_prediction(served, three.read_bytes())
    assert card.locator(".label").inner_text() == predicted
    assert card.locator(".bars li").count() == 3  # top 3 as bars
    assert card.locator(".name").inner_text() == three.name

    wrong = "8" if predicted != "8" else "5"  # a correction: the user picks another class
    card.locator(".correct").select_option(wrong)
    card.locator(".fix").click()
    page.wait_for_function("() => document.querySelector('.card .saved').textContent.startsWith('saved')")
    assert card.locator(".saved").inner_text() == f"saved: {wrong}"

    drop_file(page, "dropped.png", seven.read_bytes())
    page.wait_for_function("() => document.querySelectorAll('.card .bars li').length >= 6")
    dropped = page.locator(".card").first
    assert dropped.locator(".name").inner_text() == "dropped.png"
    assert dropped.locator(".label").inner_text() == api_prediction(served, seven.read_bytes())
    dropped.locator(".right").click()
    page.wait_for_function("() => document.querySelector('.card .saved').textContent === 'saved: right'")
    if not page.is_disabled("#heatmap"):  # the bundle can be explained: the toggle shows the heat map
        page.check("#heatmap")
        page.set_input_files("#files", str(three))
        page.wait_for_function("() => document.querySelector('.card .thumb').src.startsWith('data:image/png')")
    page.screenshot(path=str(tmp_path / "page.png"))

    digest = hashlib.sha256(three.read_bytes()).hexdigest()
    db = sqlite3.connect(served.feedback_dir / "feedback.sqlite3")
    rows = db.execute("SELECT model, predicted, label, correct, image_file FROM feedback WHERE image_sha256 = ?",
                      (digest,)).fetchall()
    db.close()
    assert rows == [("digits", json.dumps(predicted), json.dumps(wrong), 0, f"images/{digest}.png")]
    assert (served.feedback_dir / "images" / f"{digest}.png").read_bytes() == three.read_bytes()
    assert not list(served.feedback_dir.rglob(three.name))  # the client's file name is never used on disk

    page.goto(f"{served.url}/feedback")
    page.wait_for_selector("#feedback tbody tr")
    assert "✗ corrected" in page.locator("#feedback tbody").inner_text()
    assert page.locator("#feedback img.mini").first.get_attribute("src").startswith("blob:")
    assert page.errors == []  # no CSP violation, no script error

    _more_feedback(served, digits_folder)
    data = tmp_path / "from-feedback"
    code, out, err = run_cli(capsys, "feedback", "export", served.feedback_dir, "--out", data)
    assert code == 0, err
    manifest = (data / "manifest.csv").read_text()
    assert f"images/{digest}.png,{wrong}," in manifest
    code, out, err = run_cli(capsys, "--quiet", "train", data / "manifest.csv", "--model", "svm", "--features",
                             "pixels", "--out", tmp_path / "retrained", "--no-report")
    assert code == 0, err
    code, out, _ = run_cli(capsys, "predict", tmp_path / "retrained", three, "--format", "json")
    assert json.loads(out)[0]["prediction"] in {"0", "1", "3", "7", "8", "5"}


def _more_feedback(served, digits_folder) -> None:
    """Judgements a few users would add through the API, so the export has enough images to train on."""
    for digit in ("0", "1", "3", "7"):
        for path in sorted((digits_folder / "train" / digit).glob("*.png"))[:6]:
            answer = httpx.post(f"{served.url}/v1/feedback?model=digits&label={digit}", timeout=30,
                                files={"file": (path.name, path.read_bytes(), "image/png")})
            assert answer.status_code == 201, answer.text
