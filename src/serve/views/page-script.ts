/**
 * The browser page's script (see page.ts), kept as a string the page inlines and the
 * Content-Security-Policy hashes. It owns what the page shows:
 *
 * - the agent's state in the header, from /status and then from every stream event,
 *   restore or backup, so it never says "idle" next to a running restore;
 * - the latest restore: its phases (the states it went through, with when each
 *   began and how long it lasted), a time axis of its activity (state bands, order
 *   polls, log messages, warnings, errors and stalls) drawn as inline SVG, and its
 *   details;
 * - the past restores from /restores, with outcome and duration;
 * - the latest restore's events, newest first, with dates.
 *
 * Plain ES2020 for any current browser, no template literals (this is one itself).
 */
export const PAGE_SCRIPT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
// The page's own <svg> gives the SVG namespace: the page names no URL at all.
const SVG = $("timeline-svg").namespaceURI;
const KINDS = ["restore", "backup"];
const STEPS = ["requested", "progress", "error", "stalled", "succeeded", "failed"];
const TERMINAL = ["succeeded", "failed"];
// A Ruby Logger line: severity letter, then "[date". Anything else is an access line (an order poll).
const LOGGER_LINE = /^([DIWEFA]), \[/;

let restore = null, events = [], probe = null, history = [], insight = null;
let agentState = "-", active = null, lastEventId = 0;

function ms(iso) { return Date.parse(iso); }
function duration(milliseconds) {
  const s = Math.max(0, Math.round(milliseconds / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m" + String(s % 60).padStart(2, "0") + "s";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h" + String(m % 60).padStart(2, "0") + "m";
  return Math.floor(h / 24) + "d" + String(h % 24).padStart(2, "0") + "h";
}
function ago(iso) { return iso ? duration(Date.now() - ms(iso)) + " ago" : "-"; }
function day(iso) { return iso.slice(0, 10); }
function clock(iso) { return iso.slice(11, 19); }
function stamp(iso) { return day(iso) + " " + clock(iso) + "Z"; }
function count(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }
function firstLine(text) { return (text || "-").split("\n")[0]; }
function setText(id, text, cls) { const el = $(id); el.textContent = text; if (cls !== undefined) el.className = cls; }
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs, title) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (title) { const t = document.createElementNS(SVG, "title"); t.textContent = title; e.appendChild(t); }
  return e;
}

/** What an event was, for the time axis. */
function activity(e) {
  if (e.type.endsWith(".stalled")) return "stall";
  if (e.type.endsWith(".failed")) return "error";
  const m = LOGGER_LINE.exec(e.line || "");
  if (m === null) return e.type.endsWith(".progress") ? "poll" : "request";
  if (m[1] === "E" || m[1] === "F") return "error";
  if (m[1] === "W") return "warn";
  return "message";
}

/**
 * The restore's states as spans of time: each event carries the state the restore
 * was in after it; a span ends where the next state begins.
 */
function spans(op, evs, end) {
  const out = [{ state: "requested", from: ms(op.requestedAt), to: end }];
  for (const e of evs) {
    const last = out[out.length - 1];
    if (e.state === last.state) continue;
    const t = ms(e.time);
    last.to = t;
    out.push({ state: e.state, from: t, to: TERMINAL.includes(e.state) ? t : end });
  }
  return out;
}

/**
 * Where an operation's time ends: at its end once finished; while active, at the
 * wall clock, unless the log's clock is far from it (an old log being replayed),
 * where the last line seen is the better end.
 */
function liveEnd(op, evs) {
  if (op.finishedAt) return ms(op.finishedAt);
  let last = ms(op.lastActivityAt);
  for (const e of evs || []) last = Math.max(last, ms(e.time));
  const now = Date.now();
  return now >= last && now - last < 6 * 3600e3 ? now : last;
}

function renderPhases(parts, op) {
  const list = $("phases");
  const seen = new Map();
  for (const p of parts) {
    const s = seen.get(p.state);
    if (s) s.spent += p.to - p.from;
    else seen.set(p.state, { state: p.state, from: p.from, spent: p.to - p.from });
  }
  const items = [...seen.values()];
  if (!TERMINAL.includes(op.state)) items.push({ state: "finished", from: null, spent: 0, pending: true });
  list.replaceChildren(...items.map((p) => {
    const li = el("li", "phase " + p.state + (p.pending ? " pending" : "") + (p.state === op.state ? " current" : ""));
    li.appendChild(el("span", "phase-name", p.state));
    const when = p.from === null ? "not yet" : clock(new Date(p.from).toISOString()) + "Z";
    const spent = TERMINAL.includes(p.state) || p.pending ? "" : " · " + duration(p.spent);
    li.appendChild(el("span", "phase-time", when + spent));
    return li;
  }));
}

/** The named phases the tracker's rules found in the restore's messages (download, restore, …), with the time in each. */
function renderNamedPhases(phases) {
  $("named-phases").hidden = phases.length === 0;
  $("named-phases").replaceChildren(...phases.map((p) => {
    const li = el("li", "phase running" + (p.current ? " current" : ""));
    li.appendChild(el("span", "phase-name", p.phase));
    li.appendChild(el("span", "phase-time", clock(p.startedAt) + "Z · " + duration(p.ms) + (p.current ? " (now)" : "")));
    return li;
  }));
}

const STEPS_S = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 604800];

let drawn = "";

function renderTimeline(op, evs, start, end) {
  const box = $("timeline");
  const width = Math.max(280, Math.floor(box.clientWidth || 600));
  // Redrawn only when something it shows changed (a live axis moves every second).
  const key = [op.id, op.state, evs.length, Math.floor(end / 1000), width].join(" ");
  if (key === drawn) return;
  drawn = key;
  const g = $("timeline-svg");
  const left = 74, right = 12, plot = width - left - right;
  const span = Math.max(end - start, 1000);
  const x = (t) => left + ((Math.min(Math.max(t, start), start + span) - start) / span) * plot;
  const lanes = { band: 14, poll: 44, message: 66, problem: 88 };
  const attrs = { width: width, height: 132, viewBox: "0 0 " + width + " 132",
    "aria-label": "activity of " + op.id + " from " + stamp(new Date(start).toISOString()) + " to " + stamp(new Date(start + span).toISOString()) };
  for (const k in attrs) g.setAttribute(k, String(attrs[k]));
  g.replaceChildren();
  for (const [lane, name] of [["band", "state"], ["poll", "polls"], ["message", "messages"], ["problem", "problems"]]) {
    g.appendChild(svg("text", { x: 0, y: lanes[lane] + 4, class: "lane-label" })).textContent = name;
    g.appendChild(svg("line", { x1: left, x2: left + plot, y1: lanes[lane], y2: lanes[lane], class: "lane" }));
  }
  for (const p of spans(op, evs, end)) {
    const w = Math.max(TERMINAL.includes(p.state) ? 0 : 2, x(p.to) - x(p.from));
    if (w > 0) g.appendChild(svg("rect", { x: x(p.from), y: lanes.band - 7, width: w, height: 14, rx: 2, class: "band " + p.state },
      p.state + " from " + clock(new Date(p.from).toISOString()) + "Z for " + duration(p.to - p.from)));
  }
  if (TERMINAL.includes(op.state)) {
    g.appendChild(svg("circle", { cx: x(ms(op.finishedAt)), cy: lanes.band, r: 6, class: "outcome " + op.state },
      op.state + " at " + stamp(op.finishedAt)));
  }
  // An error is shown when it is logged; the verdict it leads to, from the same line, adds no second mark.
  const marked = new Set(evs.filter((e) => e.type.endsWith(".error")).map((e) => e.file + ":" + e.offset));
  for (const e of evs) {
    if (e.type.endsWith(".failed") && marked.has(e.file + ":" + e.offset)) continue;
    const kind = activity(e), t = x(ms(e.time));
    const title = stamp(e.time) + "  " + firstLine(e.message);
    if (kind === "poll") g.appendChild(svg("rect", { x: t - 1, y: lanes.poll - 7, width: 2, height: 14, class: "mark poll" }, title));
    else if (kind === "request") continue; // the start of the state band
    else if (kind === "message") g.appendChild(svg("circle", { cx: t, cy: lanes.message, r: 3.5, class: "mark message" }, title));
    else if (kind === "warn") g.appendChild(svg("circle", { cx: t, cy: lanes.message, r: 4, class: "mark warn" }, title));
    else if (kind === "stall") g.appendChild(svg("path", { d: "M" + t + " " + (lanes.problem - 6) + "l6 11h-12z", class: "mark stall" }, title));
    else g.appendChild(svg("rect", { x: t - 4, y: lanes.problem - 4, width: 8, height: 8, transform: "rotate(45 " + t + " " + lanes.problem + ")", class: "mark error" }, title));
  }
  // Ticks at a round step, no closer than 80px apart.
  const step = (STEPS_S.find((s) => (s * 1000 / span) * plot >= 80) || 604800) * 1000;
  const y = 106;
  g.appendChild(svg("line", { x1: left, x2: left + plot, y1: y, y2: y, class: "axis" }));
  for (let t = Math.ceil(start / step) * step; t <= start + span; t += step) {
    const iso = new Date(t).toISOString();
    g.appendChild(svg("line", { x1: x(t), x2: x(t), y1: y, y2: y + 4, class: "axis" }));
    const label = step >= 86400e3 ? day(iso).slice(5) : step >= 60e3 ? iso.slice(11, 16) : clock(iso);
    const anchor = x(t) < left + 20 ? "start" : x(t) > left + plot - 20 ? "end" : "middle";
    g.appendChild(svg("text", { x: x(t), y: y + 16, "text-anchor": anchor, class: "tick" })).textContent = label;
  }
  g.appendChild(svg("text", { x: 0, y: y + 16, class: "lane-label" })).textContent = day(new Date(start).toISOString()).slice(5) + " UTC";
}

function renderHistory() {
  const body = $("history-rows");
  $("history").hidden = history.length === 0;
  body.replaceChildren(...history.slice(0, 20).map((op) => {
    const tr = el("tr", restore !== null && op.id === restore.id ? "current" : "");
    tr.appendChild(el("td", "id", op.id));
    tr.appendChild(el("td", "state " + op.state, op.state));
    tr.appendChild(el("td", "when", stamp(op.requestedAt)));
    tr.appendChild(el("td", "took", op.durationMs !== null ? duration(op.durationMs) : duration(liveEnd(op) - ms(op.requestedAt)) + " so far"));
    if (op.failure) tr.title = firstLine(op.failure);
    return tr;
  }));
}

function render() {
  setText("agent-state", agentState, "state " + agentState.replace(/^(restore|backup)-/, ""));
  $("restore").hidden = restore === null;
  $("events-section").hidden = restore === null;
  $("none").hidden = restore !== null;
  if (restore !== null) {
    const evs = events.filter((e) => e.restoreId === restore.id);
    const start = ms(restore.requestedAt), end = liveEnd(restore, evs);
    setText("restore-id", restore.id);
    setText("restore-state", restore.state, "state " + restore.state);
    setText("requested", stamp(restore.requestedAt) + " by " + restore.requestedBy);
    setText("elapsed", restore.durationMs !== null ? "took " + duration(restore.durationMs) : duration(end - start) + " so far");
    setText("counts", count(restore.orderPolls, "order poll") + ", " + count(restore.messages, "log message"));
    setText("last-activity", stamp(restore.lastActivityAt) + " (" + ago(restore.lastActivityAt) + ")");
    setText("last-message", firstLine(restore.lastMessage));
    for (const e of document.querySelectorAll(".failure")) e.hidden = restore.failure === null;
    $("failure").textContent = restore.failure || "";
    renderPhases(spans(restore, evs, end), restore);
    renderNamedPhases(insight !== null && insight.restoreId === restore.id ? insight.phases : []);
    renderTimeline(restore, evs, start, end);
    renderAfter();
  }
  $("postgres-row").hidden = probe === null || probe.state === "off";
  if (probe !== null) setText("postgres", probe.state + (probe.output ? ": " + probe.output : "") + (probe.checkedAt ? " (checked " + ago(probe.checkedAt) + ")" : ""), probe.state);
  renderHistory();
  const list = $("events");
  list.replaceChildren(...events.filter((e) => restore !== null && e.restoreId === restore.id).slice(-50).reverse().map((e) => {
    const li = el("li", "event act-" + activity(e));
    li.appendChild(el("time", "", stamp(e.time)));
    li.appendChild(el("span", "type " + e.state, e.type.split(".")[1]));
    li.appendChild(el("span", "message", firstLine(e.message)));
    li.title = e.line || "";
    return li;
  }));
}

/** Time left and the backups the Backup Manager forgot, from /status, for the restore shown. */
function renderAfter() {
  const mine = insight !== null && insight.restoreId === restore.id ? insight : null;
  const estimate = mine !== null && restore.finishedAt === null ? mine.estimate : null;
  for (const e of document.querySelectorAll(".estimate")) e.hidden = estimate === null;
  if (estimate !== null) setText("estimate", estimate.text);
  const forgotten = mine !== null ? mine.forgotten : null;
  $("forgotten").hidden = forgotten === null;
  if (forgotten !== null) {
    setText("forgotten-decision", forgotten.decision);
    $("forgotten-list").replaceChildren(...forgotten.forgottenBackups.map((b) =>
      el("li", "", (b.backupId || b.operationId) + "  " + b.state + "  requested " + stamp(b.requestedAt))));
  }
}

/** Any event, restore or backup, says what the agent is doing now. */
function follow(e) {
  lastEventId = Math.max(lastEventId, e.id);
  const op = e.operation;
  if (!TERMINAL.includes(op.state)) active = op;
  else if (active !== null && active.id === op.id) active = null;
  agentState = active !== null ? active.kind + "-" + active.state : agentState.startsWith("waiting") ? agentState : "idle";
}

function take(e) {
  follow(e);
  if (e.restoreId !== undefined) {
    if (restore === null || e.restoreId !== restore.id) events = [];
    restore = e.operation;
    events.push(e);
    if (e.type !== "restore.progress") refreshHistory();
    // The backups the Backup Manager no longer knows are told by the restore's route once it ended.
    if (TERMINAL.includes(e.state)) refreshInsight(e.restoreId);
  }
  render();
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(path + ": " + res.status);
  return res.json();
}

async function refreshHistory() {
  try { history = (await getJson("/restores")).restores; render(); } catch (_) { /* shown again on the next refresh */ }
}

async function refreshInsight(id) {
  try {
    const r = await getJson("/restores/" + encodeURIComponent(id));
    insight = { restoreId: id, phases: r.phases, estimate: r.estimate, forgotten: r.forgotten ? { ...r.forgotten, forgottenBackups: r.forgottenBackups } : null };
    render();
  } catch (_) { /* shown again on the next refresh */ }
}

async function refreshStatus() {
  try {
    const s = await getJson("/status");
    probe = s.postgresql || null;
    insight = s.latestRestore || null;
    // A stream event newer than this answer already said what the agent is doing.
    if (s.lastEventId === null || s.lastEventId >= lastEventId) {
      agentState = s.state;
      const m = /^(restore|backup)-/.exec(s.state);
      active = m !== null ? s[m[1]] : null;
    }
    if (restore === null && s.restore !== null) restore = s.restore;
    render();
  } catch (_) { /* the stream reports the connection */ }
}

const source = new EventSource("/events/stream");
for (const kind of KINDS) for (const t of STEPS) source.addEventListener(kind + "." + t, (m) => take(JSON.parse(m.data)));
source.addEventListener("open", () => setText("connection", "live", "ok"));
source.addEventListener("error", () => setText("connection", "reconnecting…", "stalled"));
source.addEventListener("shutdown", () => setText("connection", "agent stopped; reconnecting…", "stalled"));
window.addEventListener("resize", render);
refreshStatus();
refreshHistory();
setInterval(refreshStatus, 10000);
setInterval(refreshHistory, 30000);
setInterval(render, 1000);
`;
