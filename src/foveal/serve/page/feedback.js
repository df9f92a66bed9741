"use strict";
// Recent feedback: rows from /v1/feedback; images fetched with the API key (if any) and shown as blobs.

const key = sessionStorage.getItem("foveal-key") || "";
const auth = key ? { "X-API-Key": key } : {};

function labelText(label) { return Array.isArray(label) ? (label.join(", ") || "(none)") : String(label); }

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function thumbnail(url) {
  const td = document.createElement("td");
  const img = document.createElement("img");
  img.className = "mini";
  img.alt = "judged image";
  td.append(img);
  const response = await fetch(url, { headers: auth });
  if (response.ok) img.src = URL.createObjectURL(await response.blob());
  return td;
}

async function load() {
  const status = document.getElementById("status");
  const response = await fetch("/v1/feedback?limit=100", { headers: auth });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const err = (body && body.error) || { message: response.statusText };
    status.textContent = response.status === 401 ? "This server needs an API key: enter it on the page first."
      : err.message;
    return;
  }
  const rows = body.feedback;
  status.textContent = rows.length ? `${rows.length} most recent judgements` : "No feedback yet.";
  const tbody = document.querySelector("#feedback tbody");
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.className = row.correct ? "right" : "corrected";
    tr.append(cell(row.created), await thumbnail(row.image_url), cell(row.model), cell(labelText(row.predicted)),
      cell(labelText(row.label)), cell(row.correct ? "✓ right" : "✗ corrected"));
    tbody.append(tr);
  }
  document.getElementById("feedback").hidden = rows.length === 0;
}

document.addEventListener("DOMContentLoaded", load);
