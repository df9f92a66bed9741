"use strict";
// The foveal page: pick a model, drop images, see the top-k classes as bars, send feedback.
// Plain DOM code served by the app itself (no CDN, no inline script: the CSP allows only 'self').

const state = { models: [], feedback: false, key: sessionStorage.getItem("foveal-key") || "" };
const $ = (id) => document.getElementById(id);

function setStatus(text) { $("status").textContent = text; }

async function api(path, options = {}) {
  const auth = state.key ? { "X-API-Key": state.key } : {};
  const response = await fetch(path, { ...options, headers: { ...auth, ...(options.headers || {}) } });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (response.status === 401) { $("key-box").hidden = false; }
  if (!response.ok) {
    const err = (body && body.error) || { message: response.statusText };
    const text = err.fix ? `${err.message} — ${err.fix}` : err.message;
    throw Object.assign(new Error(text), { status: response.status });
  }
  return body;
}

function labelText(label) { return Array.isArray(label) ? (label.join(", ") || "(none)") : String(label); }

function currentModel() { return state.models.find((m) => m.name === $("model").value); }

async function loadModels() {
  try {
    const info = await api("/v1/models");
    state.models = info.models;
    state.feedback = info.feedback;
    const select = $("model");
    select.replaceChildren();
    for (const m of info.models) {
      const option = document.createElement("option");
      option.value = m.name;
      option.textContent = `${m.name} (${m.task.type}, ${m.classes.length} classes)`;
      select.append(option);
    }
    modelChanged();
    setStatus("");
  } catch (err) {
    setStatus(err.status === 401 ? "This server needs an API key." : `Cannot list the models: ${err.message}`);
  }
}

function modelChanged() {
  const m = currentModel();
  if (!m) return;
  const box = $("heatmap");
  box.disabled = !m.explain;
  box.parentElement.title = m.explain ? "heat map of where the model looks"
    : "heat maps need a foveal with explanations";
  $("model-info").textContent = `${m.family} · ${m.input.size.join("×")} px` + (m.calibrated ? " · calibrated" : "");
}

function newCard(file) {
  const root = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
  const card = { root, file };
  for (const part of ["thumb", "name", "label", "bars", "error", "feedback", "right", "correct", "fix", "saved"]) {
    card[part] = root.querySelector(`.${part}`);
  }
  card.thumb.src = URL.createObjectURL(file);
  card.thumb.alt = file.name;
  card.name.textContent = file.name;
  card.label.textContent = "…";
  return card;
}

function showBars(card, row) {
  card.bars.replaceChildren();
  for (const { label, score } of row.top_k) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`;  // CSSOM: allowed under the CSP
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "score";
    value.textContent = score.toFixed(3);
    item.append(name, bar, value);
    card.bars.append(item);
  }
}

function showResult(card, model, row) {
  if (row.error) {
    card.error.textContent = row.error;
    card.root.classList.add("failed");
    return;
  }
  card.label.textContent = labelText(row.prediction);
  showBars(card, row);
  if (row.heatmap) card.thumb.src = `data:image/png;base64,${row.heatmap}`;
  if (state.feedback) offerFeedback(card, model, row);
}

function offerFeedback(card, model, row) {
  card.correct.multiple = model.task.type === "multilabel";
  card.correct.replaceChildren();
  for (const cls of model.classes) {
    const option = document.createElement("option");
    option.value = cls;
    option.textContent = cls;
    option.selected = Array.isArray(row.prediction) ? row.prediction.includes(cls) : cls === row.prediction;
    card.correct.append(option);
  }
  card.feedback.hidden = false;
  card.right.addEventListener("click", () => sendFeedback(card, model, []));
  card.fix.addEventListener("click", () => {
    const chosen = Array.from(card.correct.selectedOptions, (o) => o.value);
    if (chosen.length) sendFeedback(card, model, chosen);
    else card.saved.textContent = "pick the correct label(s) first";
  });
}

async function sendFeedback(card, model, labels) {
  const params = new URLSearchParams({ model: model.name });
  for (const label of labels) params.append("label", label);
  const form = new FormData();
  form.append("file", card.file, card.file.name);
  card.saved.textContent = "saving…";
  try {
    const row = await api(`/v1/feedback?${params}`, { method: "POST", body: form });
    card.saved.textContent = row.correct ? "saved: right" : `saved: ${labelText(row.label)}`;
    card.root.classList.add("judged");
  } catch (err) {
    card.saved.textContent = `not saved: ${err.message}`;
  }
}

async function predictFile(file) {
  const model = currentModel();
  if (!model) { setStatus("No model to send images to."); return; }
  const card = newCard(file);
  $("results").prepend(card.root);
  const params = new URLSearchParams({ top_k: $("topk").value || "3" });
  if ($("heatmap").checked && !$("heatmap").disabled) params.set("explain", "default");
  const form = new FormData();
  form.append("files", file, file.name);
  try {
    const body = await api(`/v1/models/${encodeURIComponent(model.name)}/predict?${params}`,
      { method: "POST", body: form });
    showResult(card, model, body.results[0]);
  } catch (err) {
    card.label.textContent = "";
    card.error.textContent = err.message;
    card.root.classList.add("failed");
  }
}

function predictAll(files) {
  for (const file of files) predictFile(file);
}

function setup() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    predictAll(Array.from(e.dataTransfer.files));
  });
  $("files").addEventListener("change", (e) => { predictAll(Array.from(e.target.files)); e.target.value = ""; });
  $("model").addEventListener("change", modelChanged);
  $("key-save").addEventListener("click", () => {
    state.key = $("api-key").value.trim();
    sessionStorage.setItem("foveal-key", state.key);
    $("key-box").hidden = true;
    loadModels();
  });
  loadModels();
}

document.addEventListener("DOMContentLoaded", setup);
