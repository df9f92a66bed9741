"use strict";
// The labelling page: one queued image at a time; a class button or its key labels it, s skips,
// u or Backspace undoes the latest label or skip. Everything is saved by the server as it happens.

const view = { state: null, busy: false };
const $ = (id) => document.getElementById(id);

async function call(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = (data && data.error) || { message: response.statusText };
    throw new Error(err.fix ? `${err.message} (${err.fix})` : err.message);
  }
  return data;
}

function buttons(classes) {
  const box = $("classes");
  box.replaceChildren();
  for (const cls of classes) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "class";
    button.dataset.label = cls.name;
    button.textContent = cls.name + " ";
    if (cls.key) {
      const kbd = document.createElement("kbd");
      kbd.textContent = cls.key;
      button.append(kbd);
    }
    button.addEventListener("click", () => act("/api/label", cls.name));
    box.append(button);
  }
}

function show(state) {
  view.state = state;
  const c = state.counts;
  const current = state.queue[0];
  $("who").textContent = `labelling as ${state.user} · round ${state.round}`;
  $("progress").textContent = `${state.queue.length} of ${state.queued} suggested images left · pool: ` +
    `${c.labelled} labelled, ${c.unlabelled} unlabelled, ${c.skipped} skipped`;
  $("stage").hidden = !current;
  $("done").hidden = Boolean(current);
  $("classes").hidden = !current;
  $("skip").disabled = !current;
  if (current) {
    $("image").src = current.url;
    $("image").dataset.id = String(current.id);
    $("caption").textContent = `item ${current.id}`;
  }
}

async function act(url, label) {
  const current = view.state && view.state.queue[0];
  if (view.busy || (!current && url !== "/api/undo")) return;
  view.busy = true;
  $("error").textContent = "";
  try {
    const body = url === "/api/undo" ? {} : { id: current.id, label };
    const state = await call("POST", url, body);
    if (url === "/api/label") $("last").textContent = `item ${current.id}: ${label}`;
    else if (url === "/api/skip") $("last").textContent = `item ${current.id}: skipped`;
    else $("last").textContent = state.undone ? `undone: item ${state.undone.id}` : "nothing to undo";
    if (state.undone) state.queue.sort((a, b) => (a.id === state.undone.id ? -1 : b.id === state.undone.id ? 1 : 0));
    show(state);
    document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  } catch (err) {
    $("error").textContent = err.message;
  } finally {
    view.busy = false;
  }
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || !view.state) return;
  const key = event.key.toLowerCase();
  if (key === "s") return act("/api/skip");
  if (key === "u" || event.key === "Backspace") {
    event.preventDefault();
    return act("/api/undo");
  }
  const cls = view.state.classes.find((c) => c.key === key);
  if (cls) act("/api/label", cls.name);
}

async function start() {
  $("skip").addEventListener("click", () => act("/api/skip"));
  $("undo").addEventListener("click", () => act("/api/undo"));
  document.addEventListener("keydown", onKey);
  try {
    const state = await call("GET", "/api/state");
    buttons(state.classes);
    show(state);
    document.body.dataset.ready = "1";
  } catch (err) {
    $("error").textContent = err.message;
  }
}

document.addEventListener("DOMContentLoaded", start);
