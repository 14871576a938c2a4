/**
 * `GET /` for browsers: one self-contained page (inline CSS and script, nothing
 * fetched from elsewhere, no build step) that shows the latest restore (its phases
 * and a time axis of its activity), the past restores, and follows it live over
 * EventSource; the script is in page-script.ts. The browser sends the Basic credentials the page was
 * loaded with to the same origin, so `/status` and `/events/stream` need nothing
 * more. The Content-Security-Policy allows exactly this script and style.
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';

const STYLE = `
:root { color-scheme: light dark; --muted: #6e7781; --line: #8884; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --run: #0969da; --req: #8250df; }
/* The hidden attribute must win over any display rule below (dl is a grid, ol a flex row). */
[hidden] { display: none !important; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 64rem; padding: 0 1rem; }
h1 { font-size: 1.2rem; margin: 0 0 .2rem; } h2 { font-size: 1rem; margin: 1.6rem 0 .5rem; }
pre { margin: 0; white-space: pre-wrap; }
.muted { color: var(--muted); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2rem 1rem; }
header h1 { margin-right: auto; }
#connection { font-size: .85rem; }
dl { display: grid; grid-template-columns: 9rem minmax(0, 1fr); gap: .3rem 1rem; margin: 1rem 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.state { font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.succeeded, .ready, .ok { color: var(--ok); } .failed, .not-ready, .timeout, .command-missing, .error { color: var(--bad); }
.stalled { color: var(--warn); } .running { color: var(--run); } .requested { color: var(--req); }
#phases, #named-phases { list-style: none; display: flex; flex-wrap: wrap; gap: .4rem; padding: 0; margin: .8rem 0; font: inherit; }
.phase { display: flex; flex-direction: column; border: 1px solid var(--line); border-left: 4px solid currentColor; border-radius: 4px; padding: .2rem .6rem; min-width: 6.5rem; }
.phase-name { font-weight: 600; text-transform: uppercase; font-size: .8rem; letter-spacing: .03em; }
.phase-time { color: var(--muted); font-size: .8rem; }
.phase.current { background: #8881; } .phase.pending { color: var(--muted); border-style: dashed; }
#timeline { width: 100%; overflow: hidden; }
#timeline svg { display: block; }
.lane { stroke: var(--line); } .axis { stroke: var(--muted); }
.lane-label, .tick { fill: var(--muted); font: 11px system-ui, sans-serif; }
.band.requested { fill: var(--req); } .band.running { fill: var(--run); } .band.stalled { fill: var(--warn); }
.outcome.succeeded, .band.succeeded { fill: var(--ok); } .outcome.failed, .band.failed { fill: var(--bad); }
.mark.poll { fill: var(--run); } .mark.message { fill: var(--muted); }
.mark.warn, .mark.stall { fill: var(--warn); } .mark.error { fill: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th { text-align: left; color: var(--muted); font-weight: normal; }
th, td { padding: .2rem .8rem .2rem 0; border-top: 1px solid var(--line); }
td.id { overflow-wrap: anywhere; } tr.current td.id { font-weight: 600; }
ol#events { list-style: none; padding: 0; font: 13px/1.4 ui-monospace, monospace; }
#events li { display: grid; grid-template-columns: 11.5rem 6rem minmax(0, 1fr); gap: 0 .6rem; padding: .15rem 0; border-top: 1px solid var(--line); }
#events .message { white-space: pre-wrap; overflow-wrap: anywhere; }
#events .act-error { color: var(--bad); } #events .act-stall, #events .act-warn { color: var(--warn); }
@media (max-width: 34rem) {
  dl { grid-template-columns: 6.5rem minmax(0, 1fr); }
  #events li { grid-template-columns: 1fr auto; }
  #events .message { grid-column: 1 / -1; }
  th.when, td.when { display: none; }
}
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own script and style, and requests to its own origin. */
export const PAGE_CSP = [
  "default-src 'none'",
  "connect-src 'self'",
  `script-src ${hash(PAGE_SCRIPT)}`,
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
<header>
<h1>restore-watcher</h1>
<span class="muted">agent: <span id="agent-state">-</span></span>
<span id="connection" class="muted">connecting…</span>
</header>
<p id="none">No restore in the log yet.</p>
<section id="restore" hidden>
<h2>latest restore: <span id="restore-id"></span> <span id="restore-state" class="state"></span></h2>
<ol id="phases" aria-label="phases"></ol>
<ol id="named-phases" class="named" aria-label="named phases" hidden></ol>
<div id="timeline"><svg id="timeline-svg" role="img"></svg></div>
<dl>
  <dt>requested</dt><dd id="requested"></dd>
  <dt>elapsed</dt><dd id="elapsed"></dd>
  <dt>activity</dt><dd id="counts"></dd>
  <dt>last activity</dt><dd id="last-activity"></dd>
  <dt>last message</dt><dd id="last-message"></dd>
  <dt class="estimate" hidden>time left</dt><dd class="estimate" id="estimate" hidden></dd>
  <dt class="failure" hidden>failure</dt><dd class="failure" hidden><pre id="failure"></pre></dd>
</dl>
<section id="forgotten" hidden><h2>backups the Backup Manager no longer knows</h2><p id="forgotten-decision"></p><ol id="forgotten-list"></ol></section>
</section>
<dl id="postgres-row" hidden><dt>postgresql</dt><dd id="postgres"></dd></dl>
<section id="history" hidden>
<h2>restores</h2>
<table><thead><tr><th>restore</th><th>outcome</th><th class="when">requested</th><th>took</th></tr></thead>
<tbody id="history-rows"></tbody></table>
</section>
<section id="events-section" hidden>
<h2 class="muted">events of the latest restore, newest first</h2>
<ol id="events"></ol>
</section>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
