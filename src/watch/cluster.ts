/**
 * `watch --url A --url B --url C`: follows the agents on every VM of a cluster at
 * once and shows the one where the restore happens. a9s-pg runs on several VMs
 * and only the master's backup-agent log sees a restore; the operator need not
 * know which VM that is.
 *
 * Each URL is a member with its own stream client and its own watch reducer
 * state, exactly as a single `watch` has: event ids, resumption, baselines and
 * timeouts are per agent. What this module adds is the choice between them, as
 * pure functions of the members' states:
 *
 * - the leader is the member whose latest restore is active (the most recently
 *   requested, if several are), else the one whose latest restore was requested
 *   last; none before any member has seen a restore;
 * - with --until-done the first member whose restore ends live decides, as a
 *   single watch would; a member that can no longer be followed (refused,
 *   rejected, unreachable past --timeout) is dropped with a notice, and when
 *   every member is dropped the watch ends with the most serious of their ends.
 */
import { isTerminal, type Operation } from '../model.js';
import { RestoreFollowUp, type AgentAddress } from './follow-up.js';
import { eventLine, fit, liveView, noticeLine, outcomeLine, palette, type Palette } from './render.js';
import { LiveScreen } from './screen.js';
import { EventStreamClient, systemClock, type StreamClientDeps } from './stream-client.js';
import { exitCode, initialWatchState, reduceWatch, type Outcome, type WatchInput, type WatchOptions, type WatchOutput, type WatchState } from './watch-state.js';

/** The index of the member where the restore happens, or null while no member has seen one. */
export function leaderOf(states: readonly WatchState[]): number | null {
  let best: { index: number; active: boolean; requested: number } | null = null;
  states.forEach((s, index) => {
    const r = s.latest.restore;
    if (r === null) return;
    const candidate = { index, active: !isTerminal(r.state), requested: Date.parse(r.requestedAt) };
    if (best === null || (candidate.active && !best.active) || (candidate.active === best.active && candidate.requested > best.requested)) {
      best = candidate;
    }
  });
  return (best as { index: number } | null)?.index ?? null;
}

/** How the cluster watch ends: the member that decided and its outcome, or null to go on. */
export function clusterOutcome(states: readonly WatchState[]): { index: number; outcome: Outcome } | null {
  const decided = states.findIndex((s) => s.outcome !== null && (s.outcome.kind === 'restore' || s.outcome.kind === 'unseen'));
  if (decided >= 0) return { index: decided, outcome: states[decided]!.outcome! };
  if (!states.every((s) => s.outcome !== null)) return null;
  let worst = 0;
  states.forEach((s, i) => {
    if (exitCode(s.outcome!) > exitCode(states[worst]!.outcome!)) worst = i;
  });
  return { index: worst, outcome: states[worst]!.outcome! };
}

export interface ClusterSettings {
  members: AgentAddress[];
  options: WatchOptions;
  heartbeatMs: number;
  mode: 'json' | 'lines' | 'live';
  colour: boolean;
}

export interface ClusterIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

/** The URL as shown: without credentials or a trailing slash. */
export function shownUrl(url: URL): string {
  return url.href.replace(/\/$/, '');
}

/** Runs the watch over every member until it decides (the exit status) or is interrupted (130, 143). */
export function runClusterWatch(settings: ClusterSettings, deps: StreamClientDeps, io: ClusterIo): Promise<number> {
  const clock = deps.clock ?? systemClock;
  const p: Palette = palette(settings.colour);
  const screen = settings.mode === 'live' ? new LiveScreen(io.stdout) : null;
  const urls = settings.members.map((m) => shownUrl(m.url));
  const states: WatchState[] = settings.members.map(() => initialWatchState(settings.options, clock.now()));
  let leader: number | null = null;
  let announced = '';

  return new Promise<number>((resolve) => {
    let finished = false;
    let ending = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      for (const c of clients) c.stop();
      clearInterval(ticker);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      screen?.end();
      resolve(code);
    };

    const notice = (log: string[], text: string): void => {
      if (screen !== null) log.push(`${p.yellow('!')} ${text}`);
      else io.stderr.write(`restore-watcher: ${text}\n`);
    };

    const draw = (log: string[]): void => {
      if (screen === null) return;
      const width = Math.max(20, (io.stdout.columns ?? 80) - 1);
      const shown = leader ?? 0;
      const view = liveView(states[shown]!, clock.now(), { palette: p, width, url: urls[shown]! });
      const extra = followUps[shown]!.viewLines(states[shown]!, p);
      const others = urls
        .map((u, i) => (i === shown ? null : `${u} ${memberStatus(states[i]!)}`))
        .filter((t): t is string => t !== null);
      const where = leader === null ? p.dim(`no restore on any of ${urls.length} agents yet`) : `on ${p.bold(urls[shown]!)}`;
      screen.draw(log, [...view.slice(0, -1), ...extra, `  ${where}`, ...view.slice(-1), ...others.map((o) => `  ${p.dim(o)}`)].map((l) => fit(l, width)));
    };

    const show = (i: number, output: WatchOutput[]): void => {
      const log: string[] = [];
      for (const o of output) {
        if (o.kind === 'event') {
          if (settings.mode === 'json') io.stdout.write(`${o.raw}\n`);
          else if (settings.mode === 'lines') io.stdout.write(`${p.dim(urls[i]!)}  ${eventLine(o.event, p)}\n`);
          else if (!o.poll) log.push(...eventLine(o.event, p, o.event.type.endsWith('.failed')).split('\n').map((l) => `${p.dim(urls[i]!)}  ${l}`));
        } else if (o.notice.kind === 'done' && !decides(o.notice.outcome)) {
          notice(log, `${urls[i]}: ${outcomeLine(o.notice.outcome, urls[i]!)}; ${states.every((s) => s.outcome !== null) ? 'no agent left to follow' : 'following the others'}`);
        } else if (o.notice.kind !== 'done' || screen === null) {
          const text = noticeLine(o.notice, urls[i]!);
          notice(log, text.startsWith(urls[i]!) ? text : `${urls[i]}: ${text}`);
        }
      }
      draw(log);
    };

    /**
     * Says where the restore is when that changed: on ticks, so that a story
     * told in one burst (an agent's history on connecting) is announced once, as
     * it ends up, and before the watch ends.
     */
    const announce = (log: string[]): void => {
      const next = leaderOf(states);
      if (next === null) return;
      const r: Operation = states[next]!.latest.restore!;
      const key = `${next} ${r.id}`;
      if (key === announced) return;
      announced = key;
      leader = next;
      const where = urls[next]!;
      notice(log, isTerminal(r.state) ? `the latest restore, ${r.id}, ${r.state} on ${where}` : `${r.id} is ${r.state} on ${where}, the master`);
    };

    const step = (i: number, input: WatchInput): void => {
      if (finished) return;
      const r = reduceWatch(states[i]!, input, clock.now());
      states[i] = r.state;
      if (r.state.outcome !== null && !decides(r.state.outcome)) clients[i]!.stop();
      const end = clusterOutcome(states);
      if (input.kind === 'tick' || end !== null) {
        const log: string[] = [];
        announce(log);
        if (log.length > 0) draw(log);
      }
      show(i, r.output);
      followUps[i]!.observe(states[i]!, input, clock.now());
      if (end !== null && !ending) {
        ending = true;
        const code = exitCode(end.outcome);
        void followUps[end.index]!.settled().then(() => finish(code));
      }
    };

    const followUps = settings.members.map(
      (m, i) =>
        new RestoreFollowUp(
          m,
          deps.transport,
          clock,
          (lines) => {
            const log: string[] = [];
            for (const l of lines) notice(log, `${urls[i]}: ${l}`);
            draw(log);
          },
          // Only the live view shows a running restore's progress.
          screen !== null ? 5000 : null,
        ),
    );
    const clients = settings.members.map(
      (m, i) => new EventStreamClient({ ...m, heartbeatMs: settings.heartbeatMs }, { ...deps, clock }, (input) => step(i, input)),
    );
    const ticker = setInterval(() => states.forEach((_, i) => step(i, { kind: 'tick' })), screen !== null ? 100 : 250);
    const onInt = (): void => finish(130);
    const onTerm = (): void => finish(143);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    // `watch --json | head` closing the pipe early is the reader's choice, not an error.
    io.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') finish(0);
    });
    screen?.begin();
    draw([]);
    for (const c of clients) c.start();
  });
}

function decides(o: Outcome): boolean {
  return o.kind === 'restore' || o.kind === 'unseen';
}

function memberStatus(s: WatchState): string {
  if (s.outcome !== null) return 'dropped';
  const r = s.latest.restore;
  const connection = s.connection.status === 'connected' ? 'connected' : s.connection.status === 'down' ? `unreachable: ${s.connection.reason}` : 'connecting…';
  return r === null ? `${connection}, no restore` : `${connection}, last restore ${r.id} ${r.state}`;
}
