"""The labelling page in headless Chromium against a real `foveal al label` process: label three images
with the keyboard (with a skip and an undo on the way), then find them labelled in the pool's SQLite."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from browser import browser_tab
from helpers import run_cli

sys.path.insert(0, str(Path(__file__).parents[1] / "serve"))
pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'foveal[serve]')")


@pytest.fixture()
def labelling(fresh_trained, tmp_path, capsys):
    from server_helpers import Server, free_port

    pool, bundle = fresh_trained
    code, _, err = run_cli(capsys, "al", "suggest", pool, "--bundle", bundle, "--n", "5", "--strategy", "entropy")
    assert code == 0, err
    port = free_port()
    server = Server(["-m", "foveal", "al", "label", str(pool), "--user", "alice", "--port", str(port)], port,
                    tmp_path / "label.log").wait_ready()
    yield pool, server
    server.stop()


@pytest.fixture()
def tab():
    with browser_tab(1000, 800) as page:
        yield page


def press(tab, key: str) -> None:
    """Press ``key`` and wait until the server has answered (the page counts saved changes)."""
    saved = int(tab.evaluate("() => Number(document.body.dataset.saved || 0)"))
    tab.keyboard.press(key)
    tab.wait_for_function(f"() => Number(document.body.dataset.saved || 0) > {saved}")


def shown(tab) -> int:
    return int(tab.get_attribute("#image", "data-id"))


def test_label_three_images_with_the_keyboard(labelling, tab):
    pool, server = labelling
    tab.goto(server.url)
    tab.wait_for_selector("body[data-ready='1']")
    assert tab.locator("button.class").count() == 4
    assert tab.locator("button.class kbd").all_inner_texts() == ["0", "1", "2", "3"]  # one-character names are keys
    tab.wait_for_function("() => document.getElementById('image').naturalWidth > 0")  # the image really loads

    done: dict[int, str] = {}
    first = shown(tab)
    press(tab, "2")
    done[first] = "2"
    skipped = shown(tab)
    press(tab, "s")
    assert shown(tab) != skipped
    press(tab, "u")  # undo the skip: the same image is back
    assert shown(tab) == skipped
    press(tab, "1")
    done[skipped] = "1"
    third = shown(tab)
    press(tab, "Backspace")  # undo the "1": that image is shown again and relabelled
    assert shown(tab) == skipped
    press(tab, "3")
    done[skipped] = "3"
    assert shown(tab) == third
    press(tab, "0")
    done[third] = "0"
    assert "2 of 5 suggested images left" in tab.inner_text("#progress")
    assert tab.errors == []  # no CSP violation, no script error

    db = sqlite3.connect(pool / "state.sqlite3")
    rows = db.execute("SELECT id, status, label, user, round FROM items WHERE user = 'alice' ORDER BY id").fetchall()
    events = db.execute("SELECT action FROM events WHERE user = 'alice' ORDER BY id").fetchall()
    db.close()
    assert rows == [(i, "labelled", done[i], "alice", 1) for i in sorted(done)]
    assert [e[0] for e in events] == ["label", "skip", "undo", "label", "undo", "label", "label"]
    answer = httpx.get(f"{server.url}/api/state").json()
    assert len(answer["queue"]) == 2 and answer["counts"]["labelled"] == 12 + 3
