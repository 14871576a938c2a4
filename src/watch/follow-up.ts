/**
 * What `watch` asks the agent beside the event stream: while a restore runs, its
 * phase and the estimate of its time left (from `/status`, every few seconds, on
 * the watch's own ticks); when a restore ends while watched, which backups the
 * Backup Manager no longer knows (from `/restores/:id`). Both are plain GETs over
 * the same transport as the stream; a failed one is simply tried again later or
 * left out: the stream, not this, decides how `watch` ends.
 */
import { isTerminal } from '../model.js';
import type { Estimate, PhaseSpan } from '../report/estimate.js';
import { forgottenLines, type ForgottenBackup, type ForgottenReport } from '../report/forgotten.js';
import { formatDuration } from '../format.js';
import type { Palette } from './render.js';
import type { Clock } from './stream-client.js';
import type { HttpRequest, Transport } from './transport.js';
import type { WatchInput, WatchState } from './watch-state.js';

export interface AgentAddress {
  url: URL;
  user: string;
  password: string | null;
}

/** The latest restore's phases and estimate, as `/status` gives them. */
export interface RestoreProgress {
  restoreId: string;
  phases: PhaseSpan[];
  estimate: Estimate | null;
}

/** One GET of a JSON document; null on any failure or after `timeoutMs`. */
export function getJson(transport: Transport, address: AgentAddress, path: string, clock: Clock, timeoutMs = 5000): Promise<unknown> {
  const base = new URL(address.url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'restore-watcher-watch' };
  if (address.password !== null) headers.Authorization = `Basic ${Buffer.from(`${address.user}:${address.password}`).toString('base64')}`;
  return new Promise((resolve) => {
    let body = '';
    let ok = false;
    let request: HttpRequest | null = null;
    let settled = false;
    const done = (value: unknown): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      request?.close();
      resolve(value);
    };
    const timer = clock.setTimeout(() => done(null), timeoutMs);
    request = transport(new URL(path.replace(/^\//, ''), base), headers, {
      response: (a) => {
        ok = a.status === 200;
      },
      data: (text) => {
        body += text;
      },
      end: () => {
        try {
          done(ok ? (JSON.parse(body) as unknown) : null);
        } catch {
          done(null);
        }
      },
      error: () => done(null),
    });
  });
}

export class RestoreFollowUp {
  private progress: RestoreProgress | null = null;
  private lastPoll = Number.NEGATIVE_INFINITY;
  private polling = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly address: AgentAddress,
    private readonly transport: Transport,
    private readonly clock: Clock,
    /** Lines to show for good (the forgotten backups of a restore that just ended). */
    private readonly print: (lines: string[]) => void,
    /** How often to ask for the running restore's progress; null: never (nothing would show it). */
    private readonly pollMs: number | null = 5000,
  ) {}

  /** Sees every input after the reducer: polls while a restore is active, reports one that ended live. */
  observe(state: WatchState, input: WatchInput, now: number): void {
    const restore = state.latest.restore;
    if (restore === null) return;
    if (input.kind === 'event' && input.event.operation.kind === 'restore' && isTerminal(restore.state)) {
      const live = state.baseline === null || input.event.id > state.baseline;
      if (live && input.event.operation.id === restore.id && !this.reported.has(restore.id)) this.report(restore.id);
      return;
    }
    if (this.pollMs === null || isTerminal(restore.state) || this.polling || now - this.lastPoll < this.pollMs) return;
    if (state.connection.status !== 'connected') return;
    this.lastPoll = now;
    this.polling = true;
    this.track(
      getJson(this.transport, this.address, '/status', this.clock).then((body) => {
        this.polling = false;
        const p = (body as { latestRestore?: RestoreProgress | null } | null)?.latestRestore;
        if (p !== undefined && p !== null && Array.isArray(p.phases)) this.progress = p;
      }),
    );
  }

  /** Lines for the live view under the restore: its phases and time left, when the agent knows them. */
  viewLines(state: WatchState, p: Palette): string[] {
    const restore = state.latest.restore;
    const progress = this.progress;
    if (restore === null || isTerminal(restore.state) || progress === null || progress.restoreId !== restore.id) return [];
    const lines: string[] = [];
    if (progress.phases.length > 0) {
      lines.push(`  ${p.dim('phases')} ${progress.phases.map((s) => `${s.current ? p.bold(s.phase) : s.phase} ${formatDuration(s.ms)}`).join(p.dim(' → '))}`);
    }
    if (progress.estimate !== null) lines.push(`  ${progress.estimate.overdue ? p.yellow(progress.estimate.text) : progress.estimate.text}`);
    return lines;
  }

  /** Resolves when every question asked so far has been answered (or given up on). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private report(restoreId: string): void {
    this.reported.add(restoreId);
    this.track(
      getJson(this.transport, this.address, `/restores/${encodeURIComponent(restoreId)}`, this.clock).then((body) => {
        const lines = reportLines(body);
        if (lines.length > 0) this.print(lines);
      }),
    );
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}

/**
 * The forgotten backups in an answer of `/restores/:id`, as lines; nothing when
 * there is nothing to tell (no backup id named and no backup before it).
 */
export function reportLines(body: unknown): string[] {
  const b = body as { forgotten?: Omit<ForgottenReport, 'forgottenBackups'>; forgottenBackups?: ForgottenBackup[] } | null;
  if (b?.forgotten === undefined || !Array.isArray(b.forgottenBackups)) return [];
  const report: ForgottenReport = { ...b.forgotten, forgottenBackups: b.forgottenBackups };
  if (report.basis === 'unidentified' && report.forgottenBackups.length === 0) return [];
  return forgottenLines(report);
}
