'use strict';
// Trackline report export: draws each line chart of the page from the JSON block #report-data
// on its canvas (axes, ticks, legend), shows every line's value at the nearest x on hover, zooms
// x with the wheel or a drag, and resets on double-click. No libraries, no network.
(function () {
  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  const M = { l: 60, r: 14, t: 10, b: 30 };
  const MAX_TIP_ROWS = 12;
  const MAX_LEGEND = 30;

  function tf(a, v) { return a.log ? Math.log10(v) : v; }
  function untf(a, t) { return a.log ? Math.pow(10, t) : t; }
  function frac(a, v) {
    const p = tf(a, a.lo), q = tf(a, a.hi);
    return q === p ? 0.5 : (tf(a, v) - p) / (q - p);
  }

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
  }

  function ticks(a, target) {
    if (a.log) {
      const lo = Math.ceil(Math.log10(a.lo)), hi = Math.floor(Math.log10(a.hi));
      if (hi - lo >= 1) {
        const every = Math.max(1, Math.floor((hi - lo) / target));
        const out = [];
        for (let e = lo; e <= hi; e += every) out.push(Math.pow(10, e));
        return out;
      }
    }
    const step = niceStep((a.hi - a.lo) / target);
    if (!(step > 0) || !isFinite(step)) return [a.lo];
    const out = [];
    for (let v = Math.ceil(a.lo / step) * step; v <= a.hi + step * 1e-9 && out.length < 50; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  function fmtNum(v) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
    return String(parseFloat(v.toFixed(4)));
  }

  function fmtValue(v) {
    if (v === null || v === undefined) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(4);
    return String(parseFloat(v.toPrecision(6)));
  }

  function fmtTime(v, long) {
    const s = new Date(v * 1000).toISOString();
    return long ? s.slice(0, 19).replace('T', ' ') + ' UTC' : s.slice(5, 16).replace('T', ' ');
  }

  // The first index whose x is at least x.
  function lowerBound(xs, x) {
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function nearest(xs, x) {
    const i = lowerBound(xs, x);
    if (i === 0) return xs.length ? 0 : -1;
    if (i >= xs.length) return xs.length - 1;
    return x - xs[i - 1] <= xs[i] - x ? i - 1 : i;
  }

  function shown(line, i) {
    return line.smooth.length ? line.smooth[i] : line.y[i];
  }

  class Chart {
    constructor(el, spec) {
      this.el = el;
      this.spec = spec;
      this.canvas = el.querySelector('canvas');
      this.ctx = this.canvas.getContext('2d');
      this.tip = el.querySelector('.tooltip');
      const w = spec.window;
      this.full = w ? [w[0], w[1] > w[0] ? w[1] : w[0] + 1] : null;
      this.view = this.full ? this.full.slice() : null;
      this.hover = null;
      this.drag = null;
      this.legend(el.parentNode.querySelector('.legend'));
      this.listen();
    }

    legend(ul) {
      if (!ul) return;
      const lines = this.spec.lines;
      lines.slice(0, MAX_LEGEND).forEach((line) => {
        const li = document.createElement('li');
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.backgroundColor = line.color;
        const label = document.createElement('span');
        label.textContent = line.label;
        li.append(sw, label);
        ul.append(li);
      });
      if (lines.length > MAX_LEGEND) {
        const li = document.createElement('li');
        li.textContent = 'and ' + (lines.length - MAX_LEGEND) + ' more';
        ul.append(li);
      }
    }

    plot() {
      return { x: M.l, y: M.t, w: Math.max(10, this.w - M.l - M.r), h: Math.max(10, this.h - M.t - M.b) };
    }

    xAxis() { return { lo: this.view[0], hi: this.view[1], log: this.spec.x_log }; }

    // The y domain of what is visible in the x view, padded.
    yAxis() {
      let lo = Infinity, hi = -Infinity;
      const take = (v) => { if (v !== null && v !== undefined) { if (v < lo) lo = v; if (v > hi) hi = v; } };
      for (const line of this.spec.lines) {
        const a = Math.max(0, lowerBound(line.x, this.view[0]) - 1);
        const b = Math.min(line.x.length, lowerBound(line.x, this.view[1]) + 1);
        for (let i = a; i < b; i++) {
          take(line.y[i]);
          if (line.smooth.length) take(line.smooth[i]);
          if (line.lo.length) { take(line.lo[i]); take(line.hi[i]); }
        }
      }
      if (lo > hi) return null;
      const log = this.spec.y_log;
      if (log) {
        const a = Math.log10(lo), b = Math.log10(hi);
        const pad = b > a ? (b - a) * 0.05 : 0.5;
        return { lo: Math.pow(10, a - pad), hi: Math.pow(10, b + pad), log };
      }
      const pad = hi > lo ? (hi - lo) * 0.05 : Math.max(Math.abs(lo), 1) * 0.5;
      return { lo: lo - pad, hi: hi + pad, log };
    }

    resize() {
      const dpr = window.devicePixelRatio || 1;
      this.w = this.canvas.clientWidth;
      this.h = this.canvas.clientHeight;
      this.canvas.width = Math.round(this.w * dpr);
      this.canvas.height = Math.round(this.h * dpr);
      this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }

    draw() {
      const ctx = this.ctx, p = this.plot();
      ctx.clearRect(0, 0, this.w, this.h);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, this.w, this.h);
      ctx.font = '11px system-ui, sans-serif';
      const ya = this.view && this.yAxis();
      if (!ya) {
        ctx.fillStyle = '#777777';
        ctx.textAlign = 'center';
        ctx.fillText('no data', p.x + p.w / 2, p.y + p.h / 2);
        return;
      }
      const xa = this.xAxis();
      this.el.dataset.xMin = String(xa.lo);
      this.el.dataset.xMax = String(xa.hi);
      const px = (x) => p.x + frac(xa, x) * p.w;
      const py = (y) => p.y + (1 - frac(ya, y)) * p.h;
      this.px = px;
      this.py = py;
      this.axes(xa, ya, p, px, py);
      ctx.save();
      ctx.beginPath();
      ctx.rect(p.x, p.y, p.w, p.h);
      ctx.clip();
      for (const line of this.spec.lines) this.drawLine(line, px, py);
      this.drawHover(p, px, py);
      if (this.drag && this.drag.x1 !== undefined) {
        ctx.fillStyle = 'rgba(26, 95, 180, 0.12)';
        const a = Math.min(this.drag.x0, this.drag.x1), b = Math.max(this.drag.x0, this.drag.x1);
        ctx.fillRect(a, p.y, b - a, p.h);
      }
      ctx.restore();
      this.el.dataset.drawn = '1';
    }

    axes(xa, ya, p, px, py) {
      const ctx = this.ctx;
      ctx.strokeStyle = '#eeeeee';
      ctx.fillStyle = '#555555';
      ctx.lineWidth = 1;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      const xt = ticks(xa, Math.max(2, Math.floor(p.w / 110)));
      for (const t of xt) {
        const x = Math.round(px(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(x, p.y); ctx.lineTo(x, p.y + p.h); ctx.stroke();
        ctx.fillText(this.spec.x_time ? fmtTime(t, false) : fmtNum(t), x, p.y + p.h + 4);
      }
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const t of ticks(ya, Math.max(2, Math.floor(p.h / 50)))) {
        const y = Math.round(py(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(p.x, y); ctx.lineTo(p.x + p.w, y); ctx.stroke();
        ctx.fillText(fmtNum(t), p.x - 5, y);
      }
      ctx.strokeStyle = '#c8ccd2';
      ctx.strokeRect(p.x + 0.5, p.y + 0.5, p.w - 1, p.h - 1);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = '#777777';
      ctx.fillText(this.spec.x_name, p.x + p.w, this.h - 1);
    }

    // A line through the points with a value, broken where there is none; a point alone is a dot.
    path(xs, ys, px, py) {
      const ctx = this.ctx;
      const alone = [];
      ctx.beginPath();
      let run = 0;
      for (let i = 0; i <= xs.length; i++) {
        const y = i < xs.length ? ys[i] : null;
        if (y === null || y === undefined) {
          if (run === 1) alone.push(i - 1);
          run = 0;
          continue;
        }
        if (run > 0) ctx.lineTo(px(xs[i]), py(y)); else ctx.moveTo(px(xs[i]), py(y));
        run++;
      }
      ctx.stroke();
      for (const i of alone) ctx.fillRect(px(xs[i]) - 1.5, py(ys[i]) - 1.5, 3, 3);
    }

    drawLine(line, px, py) {
      const ctx = this.ctx;
      const smoothed = line.smooth.length > 0;
      ctx.strokeStyle = line.color;
      ctx.fillStyle = line.color;
      ctx.lineJoin = 'round';
      if (line.group && line.lo.length) {
        ctx.globalAlpha = 0.18;
        ctx.beginPath();
        let open = false;
        const close = (from, to) => {
          for (let j = to; j >= from; j--) ctx.lineTo(px(line.x[j]), py(line.lo[j]));
          ctx.closePath();
        };
        let start = 0;
        for (let i = 0; i <= line.x.length; i++) {
          const ok = i < line.x.length && line.lo[i] !== null && line.hi[i] !== null;
          if (ok && !open) { ctx.moveTo(px(line.x[i]), py(line.hi[i])); open = true; start = i; }
          else if (ok) ctx.lineTo(px(line.x[i]), py(line.hi[i]));
          else if (open) { close(start, i - 1); open = false; }
        }
        ctx.fill();
      } else if (!line.group && line.lo.length) {
        ctx.globalAlpha = smoothed ? 0.15 : 0.35;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let i = 0; i < line.x.length; i++) {
          const a = line.lo[i], b = line.hi[i];
          if (a === null || b === null || a === b) continue;
          const x = px(line.x[i]);
          ctx.moveTo(x, py(a));
          ctx.lineTo(x, py(b));
        }
        ctx.stroke();
      }
      ctx.lineWidth = 1.5;
      ctx.globalAlpha = smoothed ? 0.3 : 1;
      this.path(line.x, line.y, px, py);
      if (smoothed) {
        ctx.globalAlpha = 1;
        this.path(line.x, line.smooth, px, py);
      }
      ctx.globalAlpha = 1;
    }

    drawHover(p, px, py) {
      if (!this.hover) return;
      const ctx = this.ctx, x = px(this.hover.x);
      ctx.strokeStyle = '#888888';
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(Math.round(x) + 0.5, p.y); ctx.lineTo(Math.round(x) + 0.5, p.y + p.h); ctx.stroke();
      for (const r of this.hover.rows) {
        ctx.fillStyle = r.line.color;
        ctx.beginPath();
        ctx.arc(px(r.line.x[r.i]), py(r.value), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }

    // The nearest x to pixel column mx among every line, and each line's value there.
    pick(mx) {
      const xa = this.xAxis(), p = this.plot();
      const t = tf(xa, xa.lo) + ((mx - p.x) / p.w) * (tf(xa, xa.hi) - tf(xa, xa.lo));
      const x = untf(xa, t);
      let best = null;
      for (const line of this.spec.lines) {
        const i = nearest(line.x, x);
        if (i < 0 || shown(line, i) === null) continue;
        const d = Math.abs(this.px(line.x[i]) - mx);
        if (best === null || d < best.d) best = { d, x: line.x[i] };
      }
      if (best === null || best.d > 40) return null;
      const rows = [];
      for (const line of this.spec.lines) {
        const i = nearest(line.x, best.x);
        if (i < 0) continue;
        const value = shown(line, i);
        if (value === null || Math.abs(this.px(line.x[i]) - this.px(best.x)) > 40) continue;
        rows.push({ line, i, value });
      }
      return { x: best.x, rows };
    }

    showTip(mx, my) {
      const tip = this.tip;
      const h = this.hover;
      if (!h) { tip.hidden = true; return; }
      tip.textContent = '';
      const head = document.createElement('div');
      head.className = 'x';
      head.textContent = this.spec.x_name + ' ' + (this.spec.x_time ? fmtTime(h.x, true) : fmtValue(h.x));
      tip.append(head);
      const rows = h.rows.slice().sort((a, b) => b.value - a.value);
      for (const r of rows.slice(0, MAX_TIP_ROWS)) {
        const row = document.createElement('div');
        row.className = 'row';
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.backgroundColor = r.line.color;
        const label = document.createElement('span');
        label.className = 'label';
        label.textContent = r.line.label;
        const value = document.createElement('span');
        value.className = 'value';
        value.textContent = fmtValue(r.value);
        row.append(sw, label, value);
        tip.append(row);
      }
      if (rows.length > MAX_TIP_ROWS) {
        const more = document.createElement('div');
        more.textContent = 'and ' + (rows.length - MAX_TIP_ROWS) + ' more';
        tip.append(more);
      }
      tip.hidden = false;
      const left = mx + 14 + tip.offsetWidth > this.w ? Math.max(0, mx - 14 - tip.offsetWidth) : mx + 14;
      tip.style.left = left + 'px';
      tip.style.top = Math.max(0, Math.min(my + 10, this.h - tip.offsetHeight)) + 'px';
    }

    // Sets the x view to [a, b] (in data units), kept inside the full window.
    setView(a, b) {
      const xa = this.xAxis();
      const full = { lo: this.full[0], hi: this.full[1], log: xa.log };
      let ta = tf(xa, a), tb = tf(xa, b);
      const fa = tf(full, full.lo), fb = tf(full, full.hi);
      const minSpan = (fb - fa) * 1e-6;
      if (tb - ta < minSpan) { const c = (ta + tb) / 2; ta = c - minSpan / 2; tb = c + minSpan / 2; }
      if (tb - ta >= fb - fa) { ta = fa; tb = fb; }
      if (ta < fa) { tb += fa - ta; ta = fa; }
      if (tb > fb) { ta -= tb - fb; tb = fb; }
      this.view = [untf(xa, ta), untf(xa, tb)];
    }

    listen() {
      const c = this.canvas;
      const local = (e) => { const r = c.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
      const inPlot = (mx, my) => { const p = this.plot(); return mx >= p.x && mx <= p.x + p.w && my >= p.y && my <= p.y + p.h; };
      c.addEventListener('mousemove', (e) => {
        if (!this.view) return;
        const [mx, my] = local(e);
        if (this.drag) {
          const p = this.plot();
          this.drag.x1 = Math.max(p.x, Math.min(p.x + p.w, mx));
        }
        this.hover = inPlot(mx, my) && !this.drag ? this.pick(mx) : null;
        this.draw();
        this.showTip(mx, my);
      });
      c.addEventListener('mouseleave', () => {
        this.hover = null;
        if (this.view) this.draw();
        this.tip.hidden = true;
      });
      c.addEventListener('mousedown', (e) => {
        if (!this.view || e.button !== 0) return;
        const [mx, my] = local(e);
        if (inPlot(mx, my)) { this.drag = { x0: mx }; e.preventDefault(); }
      });
      window.addEventListener('mouseup', () => {
        const d = this.drag;
        if (!d) return;
        this.drag = null;
        if (d.x1 !== undefined && Math.abs(d.x1 - d.x0) > 3) {
          const xa = this.xAxis(), p = this.plot();
          const at = (m) => untf(xa, tf(xa, xa.lo) + ((m - p.x) / p.w) * (tf(xa, xa.hi) - tf(xa, xa.lo)));
          this.setView(at(Math.min(d.x0, d.x1)), at(Math.max(d.x0, d.x1)));
        }
        this.draw();
      });
      c.addEventListener('wheel', (e) => {
        if (!this.view) return;
        const [mx, my] = local(e);
        if (!inPlot(mx, my)) return;
        e.preventDefault();
        const xa = this.xAxis(), p = this.plot();
        const lo = tf(xa, xa.lo), hi = tf(xa, xa.hi);
        const t = lo + ((mx - p.x) / p.w) * (hi - lo);
        const k = Math.exp(Math.max(-1, Math.min(1, e.deltaY * 0.002)));
        this.setView(untf(xa, t - (t - lo) * k), untf(xa, t + (hi - t) * k));
        this.hover = this.pick(mx);
        this.draw();
        this.showTip(mx, my);
      }, { passive: false });
      c.addEventListener('dblclick', () => {
        if (!this.view) return;
        this.view = this.full.slice();
        this.draw();
      });
    }
  }

  const charts = [];
  for (const el of document.querySelectorAll('.chart[data-chart]')) {
    const spec = DATA.charts[Number(el.dataset.chart)];
    if (spec) charts.push(new Chart(el, spec));
  }
  const redraw = () => { for (const c of charts) { c.resize(); c.draw(); } };
  let pending = false;
  window.addEventListener('resize', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; redraw(); });
  });
  redraw();
})();
