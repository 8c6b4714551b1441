// The runs page: loss, learning rate and validation curves of training runs, several overlaid.
"use strict";

const $ = (id) => document.getElementById(id);
const KEYS = ["loss", "lr", "val_f1", "val_sample_accuracy"];
const charts = Object.fromEntries(KEYS.map((k) => [k, new Plot($(`c-${k}`), { xlabel: "step", ylabel: k })]));
let runs = [];

async function init() {
  try { runs = (await api("/api/runs")).runs; } catch (e) { $("error").textContent = String(e.message); return; }
  const ul = $("runs");
  if (!runs.length) ul.append(el("li", {}, "no run found (serve --runs FOLDER)"));
  runs.forEach((r, i) => {
    const box = el("input", { type: "checkbox", value: r.name, onchange: draw });
    if (i < 2) box.checked = true;
    ul.append(el("li", {}, el("label", {}, box, " ", el("span", { class: "swatch", style: `background:${PALETTE[i % PALETTE.length]}` }),
      " ", r.name, ` · ${r.steps} steps`, r.best_val_f1 !== null ? ` · best val F1 ${r.best_val_f1.toFixed(3)}` : "")));
  });
  $("logloss").onchange = draw;
  draw();
}

async function draw() {
  const chosen = [...document.querySelectorAll("#runs input:checked")].map((b) => b.value);
  const q = new URLSearchParams();
  chosen.forEach((n) => q.append("name", n));
  const data = chosen.length ? (await api(`/api/runs/metrics?${q}`)).runs : {};
  charts.loss.logY = $("logloss").checked;
  for (const k of KEYS) {
    charts[k].setData(chosen.map((name) => {
      const rows = (data[name] || []).filter((r) => typeof r[k] === "number");
      const color = PALETTE[runs.findIndex((r) => r.name === name) % PALETTE.length];
      // Validation is sparse (every val_every steps): its points are drawn, not only the lines between them.
      return { x: rows.map((r) => r.step), y: rows.map((r) => r[k]), color, width: 1.6, name, points: k.startsWith("val_") };
    }));
  }
  window.voltpeakRunsDrawn = chosen;
}

init();
