/**
 * `GET /` for browsers: one self-contained page (inline CSS and script, nothing
 * fetched from elsewhere, no build step) that shows the latest restore and follows
 * it live over EventSource. The browser sends the Basic credentials the page was
 * loaded with to the same origin, so `/status` and `/events/stream` need nothing
 * more. The Content-Security-Policy allows exactly this script and style.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --muted: #777; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --run: #0969da; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.2rem; margin: 0 0 .2rem; } h2 { font-size: 1rem; }
pre { margin: 0; white-space: pre-wrap; }
.muted { color: var(--muted); }
dl { display: grid; grid-template-columns: 10rem 1fr; gap: .3rem 1rem; margin: 1.2rem 0; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
.state { font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.succeeded, .ready { color: var(--ok); } .failed, .not-ready, .timeout, .command-missing, .error { color: var(--bad); }
.stalled { color: var(--warn); } .requested, .running { color: var(--run); }
ol { list-style: none; padding: 0; font: 13px/1.4 ui-monospace, monospace; }
li { padding: .15rem 0; border-top: 1px solid #8883; white-space: pre-wrap; }
#connection { float: right; font-size: .85rem; }
`;

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const TYPES = ["requested", "progress", "stalled", "succeeded", "failed"];
let restore = null, events = [], probe = null, insight = null;

function ago(iso) { return iso ? duration(Date.now() - Date.parse(iso)) + " ago" : "-"; }
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m" + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
}
function firstLine(text) { return (text || "-").split("\\n")[0]; }
function setText(id, text, cls) { const el = $(id); el.textContent = text; if (cls !== undefined) el.className = cls; }

function render() {
  $("restore").hidden = restore === null;
  $("none").hidden = restore !== null;
  if (restore !== null) {
    setText("restore-id", restore.id);
    setText("restore-state", restore.state, "state " + restore.state);
    setText("requested", restore.requestedAt.replace("T", " ").slice(0, 19) + "Z by " + restore.requestedBy);
    setText("elapsed", restore.durationMs !== null ? "took " + duration(restore.durationMs) : duration(Date.now() - Date.parse(restore.requestedAt)) + " so far");
    setText("last-activity", ago(restore.lastActivityAt));
    setText("last-message", firstLine(restore.lastMessage));
    for (const el of document.querySelectorAll(".failure")) el.hidden = restore.failure === null;
    $("failure").textContent = restore.failure || "";
    const mine = insight !== null && insight.restoreId === restore.id ? insight : null;
    const phases = mine !== null ? mine.phases : [];
    setText("phases", phases.length === 0 ? "-" : phases.map((p) => p.phase + " " + duration(p.ms) + (p.current ? " (now)" : "")).join(", "));
    for (const el of document.querySelectorAll(".estimate")) el.hidden = mine === null || mine.estimate === null || restore.finishedAt !== null;
    if (mine !== null && mine.estimate !== null) setText("estimate", mine.estimate.text);
    const forgotten = mine !== null ? mine.forgotten : null;
    $("forgotten").hidden = forgotten === null;
    if (forgotten !== null) {
      setText("forgotten-decision", forgotten.decision);
      $("forgotten-list").replaceChildren(...forgotten.forgottenBackups.map((b) => {
        const li = document.createElement("li");
        li.textContent = (b.backupId || b.operationId) + "  " + b.state.padEnd(10) + " requested " + b.requestedAt.replace("T", " ").slice(0, 19) + "Z";
        return li;
      }));
    }
  }
  $("postgres-row").hidden = probe === null || probe.state === "off";
  if (probe !== null) setText("postgres", probe.state + (probe.output ? ": " + probe.output : "") + (probe.checkedAt ? " (checked " + ago(probe.checkedAt) + ")" : ""), probe.state);
  const list = $("events");
  list.replaceChildren(...events.slice(-50).reverse().map((e) => {
    const li = document.createElement("li");
    li.textContent = e.time.slice(11, 19) + "Z  " + e.type.split(".")[1].padEnd(10) + " " + firstLine(e.message);
    return li;
  }));
}

function take(e) {
  if (restore === null || e.restoreId !== restore.id) events = [];
  restore = e.operation;
  events.push(e);
  render();
  // The forgotten backups and the estimate come from /status.
  if (e.type !== "restore.progress") refreshStatus();
}

async function refreshStatus() {
  try {
    const res = await fetch("/status", { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const s = await res.json();
    probe = s.postgresql || null;
    insight = s.latestRestore || null;
    setText("agent-state", s.state);
    if (restore === null && s.restore !== null) restore = s.restore;
    render();
  } catch (_) { /* the stream reports the connection */ }
}

const source = new EventSource("/events/stream");
for (const t of TYPES) source.addEventListener("restore." + t, (m) => take(JSON.parse(m.data)));
source.addEventListener("open", () => setText("connection", "live", "ok"));
source.addEventListener("error", () => setText("connection", "reconnecting…", "stalled"));
source.addEventListener("shutdown", () => setText("connection", "agent stopped; reconnecting…", "stalled"));
refreshStatus();
setInterval(refreshStatus, 10000);
setInterval(render, 1000);
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style, and requests to its own origin. */
export const PAGE_CSP = [
  "default-src 'none'",
  "connect-src 'self'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>restore-watcher</title>
<style>${STYLE}</style>
</head>
<body>
<span id="connection" class="muted">connecting…</span>
<h1>restore-watcher</h1>
<div class="muted">agent: <span id="agent-state">-</span></div>
<p id="none">No restore in the log yet.</p>
<dl id="restore" hidden>
  <dt>restore</dt><dd id="restore-id"></dd>
  <dt>state</dt><dd id="restore-state" class="state"></dd>
  <dt>requested</dt><dd id="requested"></dd>
  <dt>elapsed</dt><dd id="elapsed"></dd>
  <dt>last activity</dt><dd id="last-activity"></dd>
  <dt>last message</dt><dd id="last-message"></dd>
  <dt>phases</dt><dd id="phases"></dd>
  <dt class="estimate" hidden>time left</dt><dd class="estimate" id="estimate" hidden></dd>
  <dt class="failure" hidden>failure</dt><dd class="failure" hidden><pre id="failure"></pre></dd>
</dl>
<section id="forgotten" hidden><h2>backups the Backup Manager no longer knows</h2><p id="forgotten-decision"></p><ol id="forgotten-list"></ol></section>
<dl id="postgres-row" hidden><dt>postgresql</dt><dd id="postgres"></dd></dl>
<h2 class="muted">events, newest first</h2>
<ol id="events"></ol>
<script>${SCRIPT}</script>
</body>
</html>
`;
