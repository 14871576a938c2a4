/**
 * What `watch` prints, as pure functions of the watch state and the time: one line
 * per event for scripts and logs, the live view of the current restore for a
 * terminal, and the sentences for notices and outcomes. Colour comes from a palette
 * that is either real or a row of identity functions, so the same code renders both.
 */
import { isTerminal, type Operation, type WatchEvent } from '../model.js';
import { shortTime } from '../report/timeline.js';
import { formatDuration } from '../format.js';
import type { Notice, Outcome, WatchState } from './watch-state.js';

type Paint = (text: string) => string;

export interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

const sgr =
  (on: number, off: number): Paint =>
  (text) =>
    `\x1b[${on}m${text}\x1b[${off}m`;
const plain: Paint = (text) => text;

export function palette(colour: boolean): Palette {
  if (!colour) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything but the empty string (no-color.org). */
export function wantsColour(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

function stateColour(state: Operation['state'], p: Palette): Paint {
  switch (state) {
    case 'succeeded':
      return p.green;
    case 'failed':
      return p.red;
    case 'stalled':
      return p.yellow;
    default:
      return p.cyan;
  }
}

/**
 * One line for one event: `2018-11-20 13:00:03Z  restore-20181120T130000Z  progress   downloading …`.
 * A multi-line message (a backtrace) shows its first line and how many follow;
 * `full` adds them, indented, as further lines.
 */
export function eventLine(e: WatchEvent, p: Palette, full = false): string {
  const what = e.type.slice(e.type.indexOf('.') + 1);
  const [first = '', ...rest] = e.message.split('\n');
  const more = rest.length > 0 && !full ? p.dim(` (+${rest.length} line${rest.length === 1 ? '' : 's'})`) : '';
  const head = `${p.dim(shortTime(e.time))}  ${e.operation.id}  ${stateColour(e.state, p)(what.padEnd(9))}  ${first}${more}`;
  return full && rest.length > 0 ? [head, ...rest.map((l) => `    ${l}`)].join('\n') : head;
}

export function noticeLine(n: Notice, url: string): string {
  switch (n.kind) {
    case 'already-ended':
      return `${n.restore.id} had already ended before watch started (${n.restore.state} at ${shortTime(n.restore.finishedAt ?? n.restore.lastActivityAt)}); waiting for the next restore`;
    case 'missed':
      return `${n.missed} event${n.missed === 1 ? ' was' : 's were'} dropped by the agent before they could be shown; resuming at event ${n.firstAvailableId}`;
    case 'lost':
      return `${url}: ${n.reason}; trying again in ${seconds(n.retryInMs)}`;
    case 'reconnected':
      return `${url}: connected again after ${formatDuration(n.downForMs)}${n.after !== null ? `, resuming after event ${n.after}` : ''}`;
    case 'done':
      return outcomeLine(n.outcome, url);
  }
}

/** How the watch ended, in a sentence. */
export function outcomeLine(o: Outcome, url: string): string {
  switch (o.kind) {
    case 'restore': {
      const r = o.restore;
      const took = r.durationMs !== null ? formatDuration(r.durationMs) : '?';
      if (r.state === 'succeeded') return `${r.id} succeeded in ${took}`;
      return `${r.id} failed after ${took}: ${(r.failure ?? r.lastMessage ?? 'no reason given').split('\n')[0]}`;
    }
    case 'unseen':
      return `${o.restore.id} ended, but its end was not seen (the agent dropped events while the connection was down); counting it as failed`;
    case 'unreachable':
      return `could not reach the agent at ${url} for ${formatDuration(o.forMs)} (${o.reason}); giving up`;
    case 'rejected':
      return o.withPassword
        ? `the agent at ${url} rejected the password for user "${o.user}"`
        : `the agent at ${url} requires a password: give --password or set RESTORE_WATCHER_PASSWORD`;
    case 'refused':
      return o.reason;
  }
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ViewOptions {
  palette: Palette;
  /** Terminal columns; every line is cut to fit, so the view can be redrawn in place. */
  width: number;
  url: string;
}

/** The live view of the current restore: what it is doing, for how long, and how the connection is. */
export function liveView(state: WatchState, now: number, o: ViewOptions): string[] {
  const p = o.palette;
  const spinner = p.cyan(SPINNER[Math.floor(now / 80) % SPINNER.length]!);
  const r = state.latest.restore;
  const lines: string[] = [];
  if (state.outcome !== null && state.outcome.kind !== 'restore' && state.outcome.kind !== 'unseen') {
    lines.push(`${p.red('✖')} ${outcomeLine(state.outcome, o.url)}`);
  } else if (state.endedBefore !== null && r?.id === state.endedBefore.id) {
    lines.push(`${spinner} waiting for the next restore`);
    lines.push(`  ${r.id} had already ended: ${stateColour(r.state, p)(r.state)} at ${shortTime(r.finishedAt ?? r.lastActivityAt)}`);
  } else if (r === null) {
    lines.push(state.everConnected ? `${spinner} no restore yet: waiting for one` : `${spinner} waiting for the agent`);
  } else {
    lines.push(...restoreLines(r, state, now, spinner, p));
  }
  lines.push(`  ${p.dim(o.url)}  ${connectionText(state, now, p)}`);
  return lines.map((l) => fit(l, o.width));
}

function restoreLines(r: Operation, state: WatchState, now: number, spinner: string, p: Palette): string[] {
  const colour = stateColour(r.state, p);
  const polls = r.orderPolls > 0 ? `  ${p.dim(`${r.orderPolls} order poll${r.orderPolls === 1 ? '' : 's'}`)}` : '';
  if (isTerminal(r.state)) {
    const mark = r.state === 'succeeded' ? p.green('✔') : p.red('✖');
    const took = r.durationMs !== null ? formatDuration(r.durationMs) : '?';
    const head = `${mark} ${p.bold(r.id)}  ${colour(r.state)} ${r.state === 'succeeded' ? 'in' : 'after'} ${took}${polls}`;
    const why = r.state === 'failed' ? (r.failure ?? r.lastMessage) : r.lastMessage;
    const unseen = state.outcome?.kind === 'unseen' ? [`  ${p.yellow('its end was not seen: counted as failed')}`] : [];
    return [head, `  ${firstLine(why)}`, ...unseen];
  }
  const elapsed = formatDuration(Math.max(0, now - Date.parse(r.requestedAt)));
  const quiet = formatDuration(Math.max(0, now - Date.parse(r.lastActivityAt)));
  const head = `${spinner} ${p.bold(r.id)}  ${colour(r.state)}  ${elapsed} elapsed  last activity ${quiet} ago${polls}`;
  const unseen = state.outcome?.kind === 'unseen' ? [`  ${p.red('its end was not seen: counted as failed')}`] : [];
  return [head, `  ${firstLine(r.lastMessage)}`, ...unseen];
}

function connectionText(state: WatchState, now: number, p: Palette): string {
  const missed = state.missed > 0 ? p.yellow(`  ${state.missed} events dropped by the agent`) : '';
  const c = state.connection;
  switch (c.status) {
    case 'connected':
      return `${p.dim('connected')}${missed}`;
    case 'connecting':
      return `${p.dim(state.everConnected ? 'connecting again…' : 'connecting…')}${missed}`;
    case 'down': {
      const down = state.downSince !== null ? ` for ${formatDuration(now - state.downSince)}` : '';
      return `${p.yellow(`unreachable${down}: ${c.reason}`)}; next try in ${seconds(Math.max(0, c.retryAt - now))}${missed}`;
    }
  }
}

function firstLine(text: string | null): string {
  return text === null || text === '' ? '…' : text.split('\n')[0]!;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

/** Cuts a line to `width` visible characters, leaving escape sequences whole (a cut line ends with a reset). */
export function fit(line: string, width: number): string {
  if ([...stripAnsi(line)].length <= width) return line;
  let visible = 0;
  let out = '';
  for (const part of line.split(/(\x1b\[[0-9;]*m)/)) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    const chars = [...part];
    const room = width - 1 - visible;
    if (chars.length > room) return `${out}${chars.slice(0, Math.max(0, room)).join('')}…${line.includes('\x1b[') ? '\x1b[0m' : ''}`;
    out += part;
    visible += chars.length;
  }
  return out;
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
