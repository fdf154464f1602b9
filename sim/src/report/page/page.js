// The timeline page's script: reads the JSON in #data and draws it. No network, no library.
"use strict";
(function () {
  const errors = [];
  function fault(message) {
    errors.push(String(message));
    document.body.dataset.errors = String(errors.length);
    const bar = document.getElementById("errors");
    if (bar) { bar.style.display = "block"; bar.textContent = "page error: " + errors.join("; "); }
  }
  window.addEventListener("error", (e) => fault(e.message));

  const data = JSON.parse(document.getElementById("data").textContent);
  // Lanes are 24 px high, less when many are shown (down to LANE_H_MIN; past that the board
  // scrolls).
  const LANE_H_MAX = 24, LANE_H_MIN = 13, RULER_H = 30, PAD = 12;
  // Past this many routine events in view, their arrows are left out: dots alone still show
  // the rhythm, and the arrows of trouble stay readable.
  const ROUTINE_ARROWS_MAX = 1500;
  let LANE_H = LANE_H_MAX;
  const COLOURS = { step: "#1f6feb", notable: "#e36209", routine: "#8c96a3", setup: "#c3cad3" };
  const BAND_COLOURS = { signing: "rgba(31,111,235,0.07)", encryption: "rgba(46,160,67,0.07)" };

  function clock(ms) {
    const day = Math.floor(ms / 86400000), rest = ms % 86400000;
    const two = (n) => String(n).padStart(2, "0");
    const text = two(Math.floor(rest / 3600000)) + ":" + two(Math.floor(rest / 60000) % 60) + ":" +
      two(Math.floor(rest / 1000) % 60) + "." + String(rest % 1000).padStart(3, "0");
    return day > 0 ? day + "d " + text : text;
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the page's frame -------------------------------------------------------------------
  document.title = "authzlab: " + data.title.name + " · seed " + data.title.seed;
  const header = el("header");
  const h1 = el("h1", {}, data.title.name);
  const verdict = data.passed === null ? ["unknown", "checks not evaluated"] :
    data.passed ? ["held", "all checks held"] : ["failed", "a check failed"];
  h1.appendChild(el("span", { class: "verdict " + verdict[0], id: "verdict" }, verdict[1]));
  header.appendChild(h1);
  header.appendChild(el("div", { class: "meta" },
    data.title.scenario + " · seed " + data.title.seed + " · " + data.events.length + " events drawn" +
    (data.omitted ? " (" + data.omitted + " routine ones left out)" : "") +
    (data.title.sha256 ? " · trace sha256 " + data.title.sha256 : "") +
    " · replay: authzlab run " + data.title.scenario + " --seed " + data.title.seed));
  document.body.appendChild(header);
  document.body.appendChild(el("div", { id: "errors" }));

  const controls = el("div", { class: "controls" });
  const buttons = [["fit", "Fit"], ["in", "Zoom in"], ["out", "Zoom out"], ["all", "All nodes"], ["none", "No nodes"]];
  for (const [id, label] of buttons) controls.appendChild(el("button", { id: "b-" + id }, label));
  const windowText = el("span", { class: "window" });
  controls.appendChild(windowText);
  const legend = el("span", { class: "legend" });
  for (const [cls, label] of [["step", "administrator step"], ["notable", "trouble and change"], ["routine", "routine"]]) {
    const item = el("span");
    const dot = el("i"); dot.style.background = COLOURS[cls];
    item.appendChild(dot); item.appendChild(document.createTextNode(label)); legend.appendChild(item);
  }
  for (const [colour, label] of [["#d62828", "failed check"], ["#8a5cf5", "failure the scenario expects"]]) {
    const item = el("span");
    const dot = el("i"); dot.style.background = colour;
    item.appendChild(dot); item.appendChild(document.createTextNode(label)); legend.appendChild(item);
  }
  controls.appendChild(legend);
  controls.appendChild(el("span", { class: "window" }, "wheel over the drawing: zoom · drag: pan · click a lane: hide it · click a story line or failure: go there"));
  document.body.appendChild(controls);

  const main = el("main");
  const board = el("div", { id: "board" });
  const lanesBox = el("div", { id: "lanes" });
  const drawing = el("div", { id: "drawing" });
  const canvas = el("canvas");
  drawing.appendChild(canvas);
  const aside = el("aside");
  board.appendChild(lanesBox); board.appendChild(drawing);
  main.appendChild(board); main.appendChild(aside);
  document.body.appendChild(main);
  const tip = el("div", { id: "tip" });
  document.body.appendChild(tip);

  // --- state: which lanes show, which time window ----------------------------------------
  const shown = data.lanes.map(() => true);
  const laneIndex = new Map(data.lanes.map((name, i) => [name, i]));
  const end = Math.max(data.end, 1000);
  let view = { t0: 0, t1: end * 1.02 };
  const failingLanes = new Set(data.markers.filter((m) => !m.expected && m.lane !== null).map((m) => m.lane));

  // Lanes top to bottom by role: the administrator, the publisher, the other CallManager
  // nodes, IM and Presence, the edge, Unity Connection, then clients as they appeared.
  const ROLE_ORDER = [/^scenario$/, /^cucm-pub/, /^cucm-/, /^imp/, /^exp/, /^unity/, /^idp/];
  const rank = (name) => { const r = ROLE_ORDER.findIndex((re) => re.test(name)); return r < 0 ? ROLE_ORDER.length : r; };
  const order = data.lanes.map((_, i) => i).sort((a, b) => rank(data.lanes[a]) - rank(data.lanes[b]) || a - b);

  function rows() {
    const y = new Map();
    let at = 0;
    order.forEach((i) => { if (shown[i]) { y.set(i, RULER_H + PAD + at * LANE_H + LANE_H / 2); at++; } });
    return y;
  }

  // Lane labels: one element per node, always present (hidden lanes struck through).
  const laneLabels = data.lanes.map((name, i) => {
    const label = el("div", { class: "lane" + (failingLanes.has(i) ? " failing" : ""), "data-node": name, title: name }, name);
    label.addEventListener("click", () => { shown[i] = !shown[i]; draw(); });
    lanesBox.appendChild(label);
    return label;
  });

  // --- the side panel: failures, then the story ------------------------------------------
  aside.appendChild(el("h2", {}, "Checks"));
  const failures = el("ul", { id: "failures" });
  if (data.markers.length === 0) {
    aside.appendChild(el("p", { class: "note" }, data.checks_note || (data.passed ? "Every check held." : "")));
  }
  for (const m of data.markers) {
    const item = el("li", { class: m.expected ? "expected" : "" });
    item.appendChild(el("div", { class: "name" }, (m.expected ? "expected: " : "failed: ") + m.check));
    item.appendChild(el("div", {}, (m.t !== null ? "first at " + clock(m.t) + (m.lane !== null ? " on " + data.lanes[m.lane] : "") + " · " : "") + m.detail));
    if (m.t !== null) item.addEventListener("click", () => centre(m.t));
    failures.appendChild(item);
  }
  aside.appendChild(failures);
  aside.appendChild(el("h2", {}, "Story"));
  const story = el("ol", { id: "story" });
  const storyEvent = new Map();
  data.events.forEach((e) => { if (e.story !== undefined) storyEvent.set(e.story, e); });
  const storyItems = data.story.map((line, i) => {
    const item = el("li", {}, line);
    const event = storyEvent.get(i);
    if (event) item.addEventListener("click", () => centre(event.t));
    story.appendChild(item);
    return item;
  });
  aside.appendChild(story);
  if (data.story_omitted) aside.appendChild(el("p", { class: "note" }, data.story_omitted + " more story lines left out"));

  // --- drawing ---------------------------------------------------------------------------
  const markerNodes = data.markers.filter((m) => m.t !== null).map((m) => {
    const node = el("div", {
      class: "failure-marker" + (m.expected ? " expected" : "") + (m.lane === null ? " ruler" : ""),
      "data-check": m.check, title: (m.expected ? "expected: " : "failed: ") + m.check + "\n" + m.detail,
    });
    node.addEventListener("click", () => centre(m.t));
    drawing.appendChild(node);
    return [m, node];
  });

  // Key epochs: each regeneration of a key starts its epoch, which lasts until the next.
  const epochs = [];
  for (const what of ["signing", "encryption"]) {
    const starts = data.bands.filter((b) => b.what === what);
    // The key the run started with holds until the first regeneration (epoch 0, unlabelled).
    epochs.push({ what, label: "", t0: 0, t1: starts.length ? starts[0].t : end * 1.02, n: 0 });
    starts.forEach((b, i) => epochs.push({ what, label: b.label, t0: b.t, t1: i + 1 < starts.length ? starts[i + 1].t : end * 1.02, n: i + 1 }));
  }
  const certificates = data.bands.filter((b) => b.what === "certificate");

  function x(t, width) { return (t - view.t0) / (view.t1 - view.t0) * width; }

  function draw() {
    const count = shown.filter(Boolean).length;
    const room = board.clientHeight - RULER_H - 2 * PAD;
    LANE_H = Math.max(LANE_H_MIN, Math.min(LANE_H_MAX, Math.floor(room / Math.max(1, count))));
    const width = drawing.clientWidth;
    const height = Math.max(board.clientHeight, RULER_H + 2 * PAD + (count + 1) * LANE_H + 18 * (data.lanes.length - count));
    drawing.style.height = height + "px"; lanesBox.style.height = height + "px";
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const y = rows();
    laneLabels.forEach((label, i) => {
      label.classList.toggle("off", !shown[i]);
      const at = y.get(i);
      label.style.top = (at === undefined ? -100 : at - 7) + "px";
      label.style.display = at === undefined ? "none" : "block";
    });
    // Hidden lanes are listed after the shown ones so they can be clicked back on.
    let hiddenAt = RULER_H + PAD + y.size * LANE_H + 16;
    order.forEach((i) => {
      if (!shown[i]) { laneLabels[i].style.display = "block"; laneLabels[i].style.top = hiddenAt + "px"; hiddenAt += 18; }
    });
    // Key epochs as bands, alternating shades; their labels on the ruler.
    g.font = "11px system-ui, sans-serif";
    for (const epoch of epochs) {
      const a = Math.max(0, x(epoch.t0, width)), b = Math.min(width, x(epoch.t1, width));
      if (b <= 0 || a >= width || epoch.n % 2 === 0) continue;
      g.fillStyle = BAND_COLOURS[epoch.what]; g.fillRect(a, RULER_H, b - a, height - RULER_H);
    }
    // The ruler.
    g.fillStyle = "#fff"; g.fillRect(0, 0, width, RULER_H);
    g.strokeStyle = "#d8dde4"; g.beginPath(); g.moveTo(0, RULER_H); g.lineTo(width, RULER_H); g.stroke();
    const span = view.t1 - view.t0;
    const steps = [1, 10, 100, 1000, 5000, 15000, 60000, 300000, 900000, 3600000, 10800000, 21600000, 86400000, 604800000];
    const step = steps.find((s) => span / s <= width / 110) || steps[steps.length - 1];
    g.fillStyle = "#5b6776";
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const at = x(t, width);
      g.fillRect(at, RULER_H - 5, 1, 5);
      g.fillText(clock(t), at + 2, RULER_H - 3);
    }
    // Each key's epochs as a strip above the ruler's times, a new shade at each regeneration.
    for (const epoch of epochs) {
      const a = Math.max(0, x(epoch.t0, width)), b = Math.min(width, x(epoch.t1, width));
      if (b <= 0 || a >= width) continue;
      const top = epoch.what === "signing" ? 0 : 5;
      g.fillStyle = epoch.what === "signing" ? (epoch.n % 2 ? "#79a8f5" : "#1f6feb") : (epoch.n % 2 ? "#8fd19e" : "#2ea043");
      g.fillRect(a, top, Math.max(1, b - a), 4);
      if (epoch.n > 0) {
        g.fillStyle = "#fff"; g.fillRect(a, 10, g.measureText(epoch.what + " " + epoch.label).width + 6, 11);
        g.fillStyle = "#1d2530"; g.fillText(epoch.what + " " + epoch.label, a + 3, 19);
      }
    }
    // Lane lines.
    g.strokeStyle = "#eef1f4";
    for (const at of y.values()) { g.beginPath(); g.moveTo(0, at); g.lineTo(width, at); g.stroke(); }
    // Certificate changes: a dashed line through every lane.
    g.setLineDash([4, 3]); g.strokeStyle = "#8a5cf5"; g.fillStyle = "#8a5cf5";
    for (const c of certificates) {
      const at = x(c.t, width);
      if (at < 0 || at > width) continue;
      g.beginPath(); g.moveTo(at, RULER_H); g.lineTo(at, height); g.stroke();
      const row = y.get(c.lane);
      if (row !== undefined) g.fillText(c.label, at + 3, row - 6);
    }
    g.setLineDash([]);
    // Messages as arrows from the sending lane to the receiving one, then the events.
    let routineInView = 0;
    for (const e of data.events) if (e.class === "routine" && e.t >= view.t0 && e.t <= view.t1) routineInView++;
    const routineArrows = routineInView <= ROUTINE_ARROWS_MAX;
    for (const e of data.events) {
      if (e.t < view.t0 || e.t > view.t1 || !e.peer || (e.class === "routine" && !routineArrows)) continue;
      const other = laneIndex.get(e.peer[0]);
      if (other === undefined || !y.has(other) || !y.has(e.lane)) continue;
      const at = x(e.t, width);
      const [from, to] = e.peer[1] ? [y.get(other), y.get(e.lane)] : [y.get(e.lane), y.get(other)];
      g.strokeStyle = e.class === "routine" ? "rgba(140,150,163,0.35)" : COLOURS[e.class];
      g.beginPath(); g.moveTo(at, from); g.lineTo(at, to); g.stroke();
      const dir = to > from ? -1 : 1;
      g.beginPath(); g.moveTo(at, to); g.lineTo(at - 3, to + dir * 6); g.lineTo(at + 3, to + dir * 6); g.closePath();
      g.fillStyle = g.strokeStyle; g.fill();
    }
    for (const e of data.events) {
      if (e.t < view.t0 || e.t > view.t1 || !y.has(e.lane)) continue;
      const at = x(e.t, width), row = y.get(e.lane);
      g.fillStyle = COLOURS[e.class];
      if (e.class === "step") {
        g.beginPath(); g.moveTo(at, row - 6); g.lineTo(at + 6, row); g.lineTo(at, row + 6); g.lineTo(at - 6, row); g.closePath(); g.fill();
      } else {
        g.beginPath(); g.arc(at, row, e.class === "routine" ? 2.5 : 4, 0, 2 * Math.PI); g.fill();
      }
    }
    for (const [m, node] of markerNodes) {
      const row = m.lane === null ? RULER_H : y.get(m.lane);
      const at = x(m.t, width);
      const visible = row !== undefined && at >= 0 && at <= width;
      node.style.display = visible ? "block" : "none";
      node.style.left = at + "px"; node.style.top = (row || 0) + "px";
    }
    storyItems.forEach((item, i) => {
      const e = storyEvent.get(i);
      item.classList.toggle("hidden", !!e && !shown[e.lane]);
    });
    windowText.textContent = clock(Math.max(0, Math.round(view.t0))) + " – " + clock(Math.round(view.t1));
  }

  // --- zoom, pan, hover ------------------------------------------------------------------
  function zoom(factor, around) {
    const span = view.t1 - view.t0;
    const next = Math.min(Math.max(span * factor, 10), end * 1.02);
    const at = around === undefined ? view.t0 + span / 2 : around;
    const share = (at - view.t0) / span;
    view = { t0: at - share * next, t1: at - share * next + next };
    if (view.t0 < 0) view = { t0: 0, t1: next };
    draw();
  }
  function centre(t) {
    const span = Math.min(view.t1 - view.t0, Math.max(60000, end / 50));
    view = { t0: Math.max(0, t - span / 2), t1: Math.max(0, t - span / 2) + span };
    draw();
    storyItems.forEach((item) => item.classList.remove("current"));
  }
  document.getElementById("b-fit").addEventListener("click", () => { view = { t0: 0, t1: end * 1.02 }; draw(); });
  document.getElementById("b-in").addEventListener("click", () => zoom(0.5));
  document.getElementById("b-out").addEventListener("click", () => zoom(2));
  document.getElementById("b-all").addEventListener("click", () => { shown.fill(true); draw(); });
  document.getElementById("b-none").addEventListener("click", () => { shown.fill(false); draw(); });
  drawing.addEventListener("wheel", (e) => {
    e.preventDefault();
    const width = drawing.clientWidth;
    const rect = drawing.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, view.t0 + (e.clientX - rect.left) / width * (view.t1 - view.t0));
  }, { passive: false });
  let drag = null;
  drawing.addEventListener("mousedown", (e) => { drag = { x: e.clientX, view }; drawing.classList.add("dragging"); });
  window.addEventListener("mouseup", () => { drag = null; drawing.classList.remove("dragging"); });
  window.addEventListener("mousemove", (e) => {
    if (drag) {
      const shift = (e.clientX - drag.x) / drawing.clientWidth * (drag.view.t1 - drag.view.t0);
      const t0 = Math.max(0, drag.view.t0 - shift);
      view = { t0, t1: t0 + drag.view.t1 - drag.view.t0 };
      draw();
      return;
    }
    const rect = drawing.getBoundingClientRect();
    const px = e.clientX - rect.left, py = e.clientY - rect.top;
    if (px < 0 || py < 0 || px > rect.width || py > rect.height) { tip.style.display = "none"; return; }
    const y = rows();
    let best = null, bestDistance = 36;
    for (const ev of data.events) {
      if (!y.has(ev.lane) || ev.t < view.t0 || ev.t > view.t1) continue;
      const dx = x(ev.t, rect.width) - px, dy = y.get(ev.lane) - py;
      const distance = dx * dx + dy * dy;
      if (distance < bestDistance) { best = ev; bestDistance = distance; }
    }
    if (!best) { tip.style.display = "none"; return; }
    tip.textContent = clock(best.t) + "  " + data.lanes[best.lane] + "  " + best.kind + "\n" + best.text;
    tip.style.display = "block"; tip.style.whiteSpace = "pre-wrap";
    tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px";
  });
  window.addEventListener("resize", draw);
  draw();
  document.body.dataset.lanes = String(data.lanes.length);
  document.body.dataset.ready = "1";
})();
