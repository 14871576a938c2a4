/**
 * The tracker's rules, compiled from config data into matchers. The defaults
 * (in defaults.ts) describe the a9s backup-agent: `POST /v1/restore` and
 * `POST /v1/backup` start an operation, `POST /v1/order` polls advance it, a
 * logger `success` ends it well, and an ERROR or FATAL entry fails it unless a
 * success follows within the grace. docs/rules.md shows how to adapt them.
 *
 * Each rule keeps a name (`successMessages[0]`), so `replay --explain` can say
 * which one decided; each request matcher keeps its literal method and the
 * literal prefix of its path (null when a pattern gives none), from which a
 * byte-level scan can derive fixed needles.
 */
import { DEFAULT_CONFIG, type PhaseRule, type RequestRule } from '../defaults.js';
import type { OperationKind, Severity } from '../model.js';

/** The rules as data, as the config's `track.rules` holds them. */
export type Rules = typeof DEFAULT_CONFIG.track.rules;

export interface RequestMatcher {
  /** For `replay --explain`: `restoreRequest[0] POST /v1/restore`. */
  name: string;
  method: string;
  /** The whole path when it is a fixed string, else null. */
  literalPath: string | null;
  /** The fixed bytes every matching path starts with, else null. */
  literalPrefix: string | null;
  /** Null when `literalPath` says it all. */
  regex: RegExp | null;
}

export interface MessageRule {
  name: string;
  regex: RegExp;
}

export interface PhaseMatcher extends MessageRule {
  phase: string;
  kind: OperationKind | null;
}

export interface TrackerRules {
  restoreRequests: RequestMatcher[];
  backupRequests: RequestMatcher[];
  progressRequests: RequestMatcher[];
  /** Status codes (exact) and classes (first digit) of poll answers that are trouble. */
  pollFailureStatuses: ReadonlySet<number>;
  pollFailureClasses: ReadonlySet<number>;
  successMessages: MessageRule[];
  failureMessages: MessageRule[];
  failureSeverities: ReadonlySet<Severity>;
  failureGraceMs: number;
  phases: PhaseMatcher[];
  backupId: RegExp;
  restartOnNewPid: boolean;
  stallAfterMs: number;
  /** What `requestRules` last answered. */
  asked: AskedRequests;
}

export const DEFAULT_STALL_AFTER_MS = DEFAULT_CONFIG.track.stallAfterSeconds * 1000;

export function compileRules(rules: Partial<Rules> = {}, stallAfterMs = DEFAULT_STALL_AFTER_MS): TrackerRules {
  const r: Rules = { ...DEFAULT_CONFIG.track.rules, ...rules };
  const statuses = new Set<number>();
  const classes = new Set<number>();
  for (const s of r.pollFailureStatuses) {
    if (s.endsWith('xx')) classes.add(Number(s[0]));
    else statuses.add(Number(s));
  }
  return {
    restoreRequests: requests('restoreRequest', r.restoreRequest),
    backupRequests: requests('backupRequest', r.backupRequest),
    progressRequests: requests('progressRequests', r.progressRequests),
    pollFailureStatuses: statuses,
    pollFailureClasses: classes,
    successMessages: r.successMessages.map((s, i) => ({ name: `successMessages[${i}] /${s}/i`, regex: new RegExp(s, 'i') })),
    failureMessages: r.failureMessages.map((s, i) => ({ name: `failureMessages[${i}] /${s}/i`, regex: new RegExp(s, 'i') })),
    failureSeverities: new Set(r.failureSeverities),
    failureGraceMs: r.failureGraceSeconds * 1000,
    phases: r.phases.map((p: PhaseRule) => ({
      name: `phases.${p.name} /${p.pattern}/i`,
      phase: p.name,
      kind: p.kind ?? null,
      regex: new RegExp(p.pattern, 'i'),
    })),
    backupId: new RegExp(r.backupIdPattern),
    restartOnNewPid: r.restartOnNewPid,
    stallAfterMs,
    asked: new AskedRequests(),
  };
}

function requests(key: string, rule: RequestRule | RequestRule[]): RequestMatcher[] {
  const list = Array.isArray(rule) ? rule : [rule];
  return list.map((m, i) => compileRequest(`${key}[${i}]`, m));
}

/** One request rule as a matcher: a literal path, a path with `:name` segments, or an anchored pattern. */
export function compileRequest(key: string, m: RequestRule): RequestMatcher {
  const method = m.method ?? 'POST';
  if (m.path !== undefined) {
    const name = `${key} ${method} ${m.path}`;
    const param = m.path.search(/\/:[A-Za-z_]/);
    if (param === -1) return { name, method, literalPath: m.path, literalPrefix: m.path, regex: null };
    const source = m.path
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : escapeRegex(seg)))
      .join('/');
    return { name, method, literalPath: null, literalPrefix: m.path.slice(0, param + 1), regex: new RegExp(`^${source}$`) };
  }
  const pattern = m.pattern ?? '';
  const anchored = new RegExp(`^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`);
  return { name: `${key} ${method} /${pattern}/`, method, literalPath: null, literalPrefix: literalPrefixOf(pattern), regex: anchored };
}

export function matchesRequest(m: RequestMatcher, method: string, path: string): boolean {
  if (m.method !== method) return false;
  return m.literalPath !== null ? m.literalPath === path : m.regex!.test(path);
}

/** The first matcher in `list` that takes the request, or null. */
export function findRequest(list: readonly RequestMatcher[], method: string, path: string): RequestMatcher | null {
  for (const m of list) if (matchesRequest(m, method, path)) return m;
  return null;
}

/** What the rules make of a request: the restore rule and the start rule (a restore's or a backup's) that take it, and the poll rule when no start rule does. */
export interface RequestRules {
  restore: RequestMatcher | null;
  start: RequestMatcher | null;
  poll: RequestMatcher | null;
}

/** A request asked about, and what the rules made of it. */
interface Asked extends RequestRules {
  rules: TrackerRules | null;
  method: string;
  path: string;
}

const asked = (): Asked => ({ rules: null, method: '', path: '', restore: null, start: null, poll: null });

/**
 * The last two requests asked about and what the rules made of them, the latest first: a log's
 * access lines take turns between a few requests (order polls, status checks), and the access
 * parser hands on the same strings for a request it has kept, so most lines are told by comparing
 * two pointers instead of matching three lists of rules. One per compiled set of rules; an answer
 * also names the rules it was made by.
 */
export class AskedRequests {
  latest = asked();
  before = asked();
}

/** The rules that take `method` `path`: `findRequest` over the three lists, kept for the last two requests (in an object reused: read it at once). */
export function requestRules(rules: TrackerRules, method: string, path: string): RequestRules {
  const kept = rules.asked;
  const latest = kept.latest;
  if (latest.path === path && latest.method === method && latest.rules === rules) return latest;
  const other = kept.before;
  kept.before = latest;
  kept.latest = other;
  if (other.path === path && other.method === method && other.rules === rules) return other;
  const restore = findRequest(rules.restoreRequests, method, path);
  const start = restore ?? findRequest(rules.backupRequests, method, path);
  other.rules = rules;
  other.method = method;
  other.path = path;
  other.restore = restore;
  other.start = start;
  other.poll = start === null ? findRequest(rules.progressRequests, method, path) : null;
  return other;
}

export function pollFails(rules: TrackerRules, status: number): boolean {
  return rules.pollFailureStatuses.has(status) || rules.pollFailureClasses.has(Math.floor(status / 100));
}

/** `s` as a pattern that matches it literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The characters a pattern's every match starts with, up to its first special character; null for none. */
function literalPrefixOf(pattern: string): string | null {
  // An alternative anywhere may start differently.
  if (pattern.includes('|')) return null;
  const body = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1];
      if (next !== undefined && /[/.\-]/.test(next)) {
        out += next;
        i++;
        continue;
      }
      break;
    }
    if ('.*+?^$()[]{}|'.includes(c)) {
      // A quantifier makes the character before it optional.
      if ('*?{'.includes(c)) out = out.slice(0, -1);
      break;
    }
    out += c;
  }
  return out === '' ? null : out;
}
