// A small interactive x-y plot on a canvas: lines, markers, nice ticks, wheel zoom, drag pan, double-click reset.
// Used by the label page (CVs), the review page (CVs in data space, axis readings), the runs page (curves) and the
// analysis page (a dropped CV, a figure's axis reading).
"use strict";

const DOUBLE_CLICK_MS = 250;  // a press this soon after a click makes the two a double-click

const SI = [[1e-12, "p"], [1e-9, "n"], [1e-6, "µ"], [1e-3, "m"], [1, ""], [1e3, "k"]];

function siScale(maxAbs) {
  // The SI prefix that prints maxAbs with 1-3 digits before the point.
  let best = SI[4];
  for (const [f, p] of SI) if (maxAbs >= f * 0.999) best = [f, p];
  return best;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

function ticks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function fmt(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(digits, 6));
}

class Plot {
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.series = [];
    this.markers = [];
    this.xlabel = opts.xlabel || "";
    this.ylabel = opts.ylabel || "";
    this.yUnit = opts.yUnit || "";
    this.xUnit = opts.xUnit || "";
    this.logY = false;
    this.pad = { left: 78, right: 16, top: 14, bottom: 46 };
    this.view = null;
    this.handlers = {};
    this._drag = null;
    this._bind();
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  on(name, fn) { this.handlers[name] = fn; return this; }

  setData(series, keepView = false) {
    this.series = series;
    if (!keepView || !this.view) this.reset();
    else this.draw();
  }

  setMarkers(markers) { this.markers = markers; this.draw(); }

  extent() {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of this.series) {
      if (s.hidden) continue;
      for (let i = 0; i < s.x.length; i++) {
        const x = s.x[i], y = this._y(s.y[i]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
    }
    if (!Number.isFinite(x0)) return { x0: 0, x1: 1, y0: 0, y1: 1 };
    const dx = (x1 - x0) || Math.abs(x0) || 1, dy = (y1 - y0) || Math.abs(y0) || 1;
    return { x0: x0 - 0.03 * dx, x1: x1 + 0.03 * dx, y0: y0 - 0.06 * dy, y1: y1 + 0.06 * dy };
  }

  _y(v) { return this.logY ? (v > 0 ? Math.log10(v) : NaN) : v; }

  reset() { this.view = this.extent(); this.draw(); }

  size() {
    const r = this.canvas.getBoundingClientRect();
    return { w: Math.max(50, r.width), h: Math.max(50, r.height) };
  }

  toScreen(x, y) {
    const { w, h } = this.size(), v = this.view, p = this.pad;
    return [p.left + (x - v.x0) / (v.x1 - v.x0) * (w - p.left - p.right),
            p.top + (v.y1 - this._y(y)) / (v.y1 - v.y0) * (h - p.top - p.bottom)];
  }

  toData(px, py) {
    const { w, h } = this.size(), v = this.view, p = this.pad;
    return [v.x0 + (px - p.left) / (w - p.left - p.right) * (v.x1 - v.x0),
            v.y1 - (py - p.top) / (h - p.top - p.bottom) * (v.y1 - v.y0)];
  }

  // The sample nearest to a screen point, over the visible series: {series, index, dist} in pixels.
  nearest(px, py) {
    let best = null;
    for (let k = 0; k < this.series.length; k++) {
      const s = this.series[k];
      if (s.hidden || s.pickable === false) continue;
      for (let i = 0; i < s.x.length; i++) {
        const [sx, sy] = this.toScreen(s.x[i], s.y[i]);
        const d = (sx - px) ** 2 + (sy - py) ** 2;
        if (!best || d < best.dist) best = { series: k, index: i, dist: d };
      }
    }
    if (best) best.dist = Math.sqrt(best.dist);
    return best;
  }

  markerAt(px, py, radius = 9) {
    let best = null;
    for (const m of this.markers) {
      if (m.id === undefined || m.id === null) continue;
      const [sx, sy] = this.toScreen(m.x, m.y);
      const d = Math.hypot(sx - px, sy - py);
      if (d <= radius && (!best || d < best.d)) best = { marker: m, d };
    }
    return best && best.marker;
  }

  _bind() {
    const c = this.canvas;
    const pos = (e) => { const r = c.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [px, py] = pos(e), [x, y] = this.toData(px, py), f = Math.exp(e.deltaY * 0.0015), v = this.view;
      const zx = !e.shiftKey, zy = !e.altKey;
      this.view = { x0: zx ? x - (x - v.x0) * f : v.x0, x1: zx ? x + (v.x1 - x) * f : v.x1,
                    y0: zy ? y - (y - v.y0) * f : v.y0, y1: zy ? y + (v.y1 - y) * f : v.y1 };
      this.draw();
    }, { passive: false });
    c.addEventListener("mousedown", (e) => {
      if (e.button !== 0) return;
      // The second press of a double-click: the first one's click is not a click (the double-click resets).
      if (this._clickLater) { clearTimeout(this._clickLater); this._clickLater = null; this._second = true; }
      const [px, py] = pos(e);
      const m = this.markerAt(px, py);
      this._drag = { px, py, moved: false, marker: m && m.draggable ? m : null, view: { ...this.view }, hit: m };
    });
    window.addEventListener("mousemove", (e) => {
      const d = this._drag;
      if (!d) return;
      const [px, py] = pos(e);
      if (Math.hypot(px - d.px, py - d.py) > 4) d.moved = true;
      if (!d.moved) return;
      if (d.marker) {
        [d.marker.x, d.marker.y] = this.toData(px, py);
        d.marker.dragging = true;
        this.draw();
      } else {
        const [x0, y0] = this.toData(d.px, d.py), [x1, y1] = this.toData(px, py);
        // toData uses the current view: shift relative to the view at mousedown.
        const v = d.view, dx = x1 - x0, dy = y1 - y0;
        this.view = { x0: v.x0 - dx, x1: v.x1 - dx, y0: v.y0 - dy, y1: v.y1 - dy };
        d.view = { ...this.view }; d.px = px; d.py = py;
        this.draw();
      }
    });
    window.addEventListener("mouseup", (e) => {
      const d = this._drag;
      this._drag = null;
      if (!d) return;
      const [px, py] = pos(e), second = this._second;
      this._second = false;
      if (d.marker && d.moved) { d.marker.dragging = false; this.handlers.drop && this.handlers.drop(d.marker, px, py); }
      else if (!d.moved && !second && this.handlers.click) {
        // A click counts once no second press follows within the double-click time.
        this._clickLater = setTimeout(() => { this._clickLater = null; this.handlers.click(px, py, d.hit, e); },
                                      DOUBLE_CLICK_MS);
      }
    });
    c.addEventListener("dblclick", (e) => { e.preventDefault(); this.reset(); });
    c.addEventListener("contextmenu", (e) => {
      const [px, py] = pos(e), m = this.markerAt(px, py);
      if (m && this.handlers.context) { e.preventDefault(); this.handlers.context(m); }
    });
  }

  draw() {
    if (!this.view) return;
    const dpr = window.devicePixelRatio || 1, { w, h } = this.size(), ctx = this.ctx, p = this.pad, v = this.view;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr); this.canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const [yf, yp] = this.yUnit && !this.logY ? siScale(Math.max(Math.abs(v.y0), Math.abs(v.y1))) : [1, ""];
    ctx.font = "12px sans-serif"; ctx.fillStyle = "#333"; ctx.strokeStyle = "#e4e4e4"; ctx.lineWidth = 1;
    const xt = ticks(v.x0, v.x1, Math.max(2, (w - p.left - p.right) / 90));
    const yt = ticks(v.y0, v.y1, Math.max(2, (h - p.top - p.bottom) / 50));
    const xs = xt.length > 1 ? xt[1] - xt[0] : 1, ys = yt.length > 1 ? (yt[1] - yt[0]) / yf : 1;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of xt) {
      const [sx] = this.toScreen(t, v.y0);
      ctx.beginPath(); ctx.moveTo(sx, p.top); ctx.lineTo(sx, h - p.bottom); ctx.stroke();
      ctx.fillText(fmt(t, xs), sx, h - p.bottom + 4);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of yt) {
      const sy = p.top + (v.y1 - t) / (v.y1 - v.y0) * (h - p.top - p.bottom);
      ctx.beginPath(); ctx.moveTo(p.left, sy); ctx.lineTo(w - p.right, sy); ctx.stroke();
      ctx.fillText(this.logY ? "1e" + fmt(t, ys) : fmt(t / yf, ys), p.left - 5, sy);
    }
    ctx.strokeStyle = "#555"; ctx.strokeRect(p.left, p.top, w - p.left - p.right, h - p.top - p.bottom);
    ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText(this.xlabel + (this.xUnit ? ` / ${this.xUnit}` : ""), p.left + (w - p.left - p.right) / 2, h - 4);
    ctx.save(); ctx.translate(14, p.top + (h - p.top - p.bottom) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(this.ylabel + (this.yUnit ? ` / ${yp}${this.yUnit}` : ""), 0, 0); ctx.restore();
    ctx.save();
    ctx.beginPath(); ctx.rect(p.left, p.top, w - p.left - p.right, h - p.top - p.bottom); ctx.clip();
    for (const s of this.series) {
      if (s.hidden) continue;
      ctx.strokeStyle = s.color || "#1f77b4"; ctx.lineWidth = s.width || 1.3; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      const ok = (i) => i >= 0 && i < s.x.length && Number.isFinite(s.x[i]) && Number.isFinite(this._y(s.y[i]));
      const dots = [];
      for (let i = 0; i < s.x.length; i++) {
        if (!ok(i)) { pen = false; continue; }
        const [sx, sy] = this.toScreen(s.x[i], s.y[i]);
        if (pen) ctx.lineTo(sx, sy); else { ctx.moveTo(sx, sy); pen = true; }
        // A point with no drawn neighbour makes no line: a dot shows it (a run validated once); ``points``: all.
        if (s.points || (!ok(i - 1) && !ok(i + 1))) dots.push([sx, sy]);
      }
      ctx.stroke();
      ctx.fillStyle = s.color || "#1f77b4";
      for (const [sx, sy] of dots) { ctx.beginPath(); ctx.arc(sx, sy, 2.5 + (s.width || 1.3) / 2, 0, 2 * Math.PI); ctx.fill(); }
    }
    ctx.setLineDash([]);
    for (const m of this.markers) drawMarker(ctx, ...this.toScreen(m.x, m.y), m);
    ctx.restore();
    this.drawn = (this.drawn || 0) + 1;
    this.handlers.drawn && this.handlers.drawn();
  }
}

function drawMarker(ctx, x, y, m) {
  const r = m.size || 7;
  ctx.beginPath();
  if (m.shape === "up") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.8); ctx.lineTo(x - r, y + r * 0.8); }
  else if (m.shape === "down") { ctx.moveTo(x, y + r); ctx.lineTo(x + r, y - r * 0.8); ctx.lineTo(x - r, y - r * 0.8); }
  else if (m.shape === "diamond") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); }
  else if (m.shape === "x") { ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); }
  else ctx.arc(x, y, r, 0, 2 * Math.PI);
  if (m.shape !== "x") ctx.closePath();
  ctx.lineWidth = m.selected ? 3 : 2;
  ctx.strokeStyle = m.color;
  if (m.filled && m.shape !== "x") { ctx.fillStyle = m.color; ctx.globalAlpha = 0.85; ctx.fill(); ctx.globalAlpha = 1; }
  ctx.stroke();
}

const AXES = { inlier: "#1565c0", outlier: "#9e9e9e", tick: "#ff6f00" };

// A canvas laid out h CSS pixels high and w wide (its width set by the page or by its CSS), drawn sharp on a
// high-density screen: its 2D context, in CSS pixels.
function sizedContext(canvas, w, h) {
  canvas.style.height = `${h}px`;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function drawAxes(ctx, axes, k) {
  // What the axis reader saw: the frame, each tick label's box (blue: on the fitted map, grey: left out) and, in
  // orange, where the map puts each label's value on the frame's edge (it sits on the tick when the map is right).
  ctx.save();
  ctx.lineWidth = 1;
  if (axes.frame) {
    const [x0, y0, x1, y1] = axes.frame.map((v) => v * k);
    ctx.strokeStyle = AXES.tick; ctx.setLineDash([4, 3]); ctx.strokeRect(x0, y0, x1 - x0, y1 - y0); ctx.setLineDash([]);
  }
  for (const [name, axis] of [["x", axes.x], ["y", axes.y]]) {
    for (const label of axis?.labels ?? []) {
      const [x0, y0, x1, y1] = label.box.map((v) => v * k);
      ctx.strokeStyle = label.inlier ? AXES.inlier : AXES.outlier;
      ctx.strokeRect(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2);
      if (!axis.map || label.value === null || !axes.frame) continue;
      const at = (label.value - axis.map.offset) / axis.map.slope * k;  // the fitted pixel of this value
      ctx.strokeStyle = AXES.tick; ctx.beginPath();
      if (name === "x") { const y = axes.frame[3] * k; ctx.moveTo(at, y - 6); ctx.lineTo(at, y + 6); }
      else { const x = axes.frame[0] * k; ctx.moveTo(x - 6, at); ctx.lineTo(x + 6, at); }
      ctx.stroke();
    }
  }
  ctx.restore();
}

// DOM helper: an element with text content only (never HTML from data).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;  // CSSOM: allowed under the page's content security policy
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path, options = {}) {
  const init = { ...options, headers: { "Content-Type": "application/json", ...(options.headers || {}) } };
  if (init.body && typeof init.body !== "string") init.body = JSON.stringify(init.body);
  const r = await fetch(path, init);
  if (!r.ok) {
    // The server's reason ({"detail": ...}) in words; e.status keeps the code (422: the request or file is bad).
    const text = await r.text();
    let detail = text;
    try { detail = String(JSON.parse(text).detail ?? text); } catch { /* not JSON: the text itself */ }
    const e = new Error(r.status === 422 ? detail : `${r.status}: ${detail.slice(0, 200)}`);
    e.status = r.status;
    throw e;
  }
  return r.json();
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
                 "#7f7f7f", "#bcbd22"];
