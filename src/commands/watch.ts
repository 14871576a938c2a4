/**
 * `restore-watcher watch`: follows the agent's event stream from a terminal or a
 * script. The stream client reports what it sees, the watch reducer decides what
 * to show and when to stop, and this module wires them to stdout, stderr, the
 * clock and the signals.
 */
import { DEFAULT_PORT } from '../defaults.js';
import { RestoreWatcherError } from '../errors.js';
import { eventLine, fit, liveView, noticeLine, palette, wantsColour, type Palette } from '../watch/render.js';
import { RestoreFollowUp } from '../watch/follow-up.js';
import { LiveScreen } from '../watch/screen.js';
import { EventStreamClient, systemClock, type StreamClientDeps } from '../watch/stream-client.js';
import { runClusterWatch } from '../watch/cluster.js';
import { nodeTransport } from '../watch/transport.js';
import {
  exitCode,
  initialWatchState,
  reduceWatch,
  type Notice,
  type WatchInput,
  type WatchOutput,
  type WatchState,
} from '../watch/watch-state.js';
import { HELP_FLAG, helpShown, onBrokenPipe, parseFlags, parseSeconds, passwordFromEnv, type Command } from './flags.js';

export const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORT}`;

const WATCH_HELP = `Usage: restore-watcher watch [--url URL]... [--user U] [--password P] [--until-done [--since TIME]]
                             [--timeout SECONDS] [--json] [--heartbeat SECONDS]

Follows a restore-watcher agent's event stream (GET /events/stream) and shows the
latest restore as it goes, starting with its story so far.

  On a terminal   a live view of the current restore: its state, the time since it
                  was requested, the time since its last activity, its last message,
                  a spinner while it runs; each event is logged above it (order polls
                  are only counted). Colour unless NO_COLOR is set.
  Otherwise       one plain line per event on stdout, a multi-line message (a
                  backtrace) in full, indented; notices on stderr.
  --json          the agent's event objects as JSON Lines, exactly as it sends them,
                  and nothing else on stdout; notices on stderr.

While a restore runs, the live view also shows its phases and the time it probably
has left: the median of earlier successful restores in the agent's journal, with
how many (never a guess without them). When a restore ends while watched, watch
says which backups the Backup Manager no longer knows after it (on stderr, or above
the view on a terminal; see docs/after-restore.md).

A dropped connection is resumed where it stopped (Last-Event-ID), after a backoff
with jitter (0.5 s doubling to 15 s): no event is shown twice or skipped. No byte
for three heartbeat periods counts as a dead connection and is retried. When the
agent stops it says so, and watch waits for it to come back.

  --url URL            The agent (default ${DEFAULT_URL}); https:// works, with extra
                       CAs from NODE_EXTRA_CA_CERTS. A route at its end (…/status,
                       …/events/stream) is ignored: watch finds its routes itself.
                       Give it once per VM of a cluster
                       (--url A --url B --url C) to follow them all: watch shows the
                       one where the restore happens, says which, and prefixes each
                       event line with its agent's URL. Only the master's log sees a
                       restore, so nobody needs to know which VM that is. The same
                       user and password are used for all.
  --user U             User for HTTP Basic auth (default admin).
  --password P         Its password. Better: RESTORE_WATCHER_PASSWORD, which other users
                       cannot read from the process list.
  --until-done         Wait for one restore to end and exit with its outcome (below).
  --since TIME         With --until-done: a restore requested at or after TIME (ISO 8601
                       with a zone, e.g. 2024-05-01T12:00:00Z) counts even if it had
                       already ended when watch started.
  --timeout SECONDS    Give up (exit 2) after SECONDS without reaching the agent, counted
                       from the start or from a lost connection. Default: keep trying.
  --heartbeat SECONDS  The agent's http.heartbeatSeconds (default 15).

--until-done waits for exactly one restore:
  - the restore in progress when watch starts, if there is one;
  - otherwise the next restore to be requested;
  - a restore that had already ended before watch started is shown and reported,
    but not waited for: watch says it had ended and waits for the next one. A
    script that has just asked for a restore must never take an earlier restore's
    outcome for its own, and the agent may not have seen the new request yet. If
    the restore might be over before watch starts, pass --since with the time the
    script asked for it: an ended restore requested at or after it then decides at
    once. TIME is compared with the agent's log clock, so allow for clock skew.
Without --until-done, watch runs until it is interrupted.

Exit status:
  0    the restore succeeded (--until-done)
  1    the restore failed, or it ended unseen while the agent dropped events (--until-done)
  2    the agent could not be reached within --timeout, or the URL is not an agent
  3    the agent rejected the password, or wants one and none was given
  64   the command line is wrong
  130  interrupted (Ctrl-C; 143 on SIGTERM)

In a script:
  restore-watcher watch --until-done && run-checks
  restore-watcher watch --url http://10.0.1.10:9465 --url http://10.0.1.11:9465 --url http://10.0.1.12:9465 --until-done
  asked=$(date -u +%Y-%m-%dT%H:%M:%SZ); request-restore
  restore-watcher watch --until-done --since "$asked" --timeout 600 --json > restore.jsonl && run-checks
`;

/** The agent's routes, as the end of a URL given to --url. */
const ROUTE_SUFFIX = /\/(?:status|events\/stream|events|healthz|metrics|restores|backups)\/?$/;

export interface WatchSettings {
  url: URL;
  /** Every --url given, the first being `url`. */
  urls: URL[];
  user: string;
  password: string | null;
  untilDone: boolean;
  sinceMs: number | null;
  timeoutMs: number | null;
  heartbeatMs: number;
  mode: 'json' | 'lines' | 'live';
  colour: boolean;
}

export const watchCommand: Command = {
  synopsis: 'restore-watcher watch [--url URL] [--until-done] [--json] ...',
  summary: 'Follow a restore from a terminal or a script.',
  help: WATCH_HELP,
  run: watch,
};

async function watch(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      url: { type: 'string', multiple: true, default: [DEFAULT_URL] },
      user: { type: 'string' },
      password: { type: 'string' },
      'until-done': { type: 'boolean', default: false },
      since: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      heartbeat: { type: 'string', default: '15' },
      ...HELP_FLAG,
    },
    false,
  );
  const shown = helpShown(values, WATCH_HELP);
  if (shown !== null) return shown;
  const settings = resolveWatchSettings(values, process.env, process.stdout.isTTY === true);
  if (settings.urls.length > 1) {
    const { user, password } = settings;
    return runClusterWatch(
      {
        members: settings.urls.map((url) => ({ url, user, password })),
        options: { untilDone: settings.untilDone, sinceMs: settings.sinceMs, timeoutMs: settings.timeoutMs },
        heartbeatMs: settings.heartbeatMs,
        mode: settings.mode,
        colour: settings.colour,
      },
      { transport: nodeTransport },
      { stdout: process.stdout, stderr: process.stderr },
    );
  }
  return runWatch(settings, { transport: nodeTransport });
}

interface WatchFlags {
  url: string[];
  user?: string | undefined;
  password?: string | undefined;
  'until-done': boolean;
  since?: string | undefined;
  timeout?: string | undefined;
  json: boolean;
  heartbeat: string;
}

/** Flags and environment, checked once: usage errors name the flag. */
export function resolveWatchSettings(flags: WatchFlags, env: NodeJS.ProcessEnv, isTTY: boolean): WatchSettings {
  const urls = flags.url.map(agentUrl);
  const url = urls[0]!;
  const twice = urls.find((u, i) => urls.findIndex((v) => v.host === u.host && v.pathname === u.pathname) !== i);
  if (twice !== undefined) throw new RestoreWatcherError('RW_USAGE', `--url: ${twice.host}${twice.pathname} is given twice`);
  // Credentials in the URL work too (the first URL's, for all), but are never shown.
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  for (const u of urls) {
    u.username = '';
    u.password = '';
  }
  const password = flags.password ?? (urlPassword !== '' ? urlPassword : undefined) ?? passwordFromEnv(env);

  let sinceMs: number | null = null;
  if (flags.since !== undefined) {
    if (!flags['until-done']) throw new RestoreWatcherError('RW_USAGE', '--since only has a meaning with --until-done');
    sinceMs = /(?:Z|[+-]\d\d:?\d\d)$/i.test(flags.since) ? Date.parse(flags.since) : NaN;
    if (Number.isNaN(sinceMs)) {
      throw new RestoreWatcherError('RW_USAGE', `--since: expected an ISO 8601 time with a zone, such as 2024-05-01T12:00:00Z, got "${flags.since}"`);
    }
  }
  return {
    url,
    urls,
    user: flags.user ?? (urlUser !== '' ? urlUser : 'admin'),
    password: password ?? null,
    untilDone: flags['until-done'],
    sinceMs,
    timeoutMs: flags.timeout === undefined ? null : parseSeconds('--timeout', flags.timeout) * 1000,
    heartbeatMs: parseSeconds('--heartbeat', flags.heartbeat) * 1000,
    mode: flags.json ? 'json' : isTTY ? 'live' : 'lines',
    colour: !flags.json && wantsColour(isTTY, env),
  };
}

function agentUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RestoreWatcherError('RW_USAGE', `--url: expected a URL such as ${DEFAULT_URL}, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RestoreWatcherError('RW_USAGE', `--url: expected http:// or https://, got "${text}"`);
  }
  // The agent's own URL is wanted, but a route copied from curl (…/status,
  // …/events/stream) would have the routes resolved below it: cut it off, with
  // any query, keeping a path prefix (an agent behind a proxy under /watcher/).
  url.pathname = url.pathname.replace(ROUTE_SUFFIX, '/');
  url.search = '';
  url.hash = '';
  return url;
}

export interface WatchIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

/** Runs the watch until it decides (the exit status) or is interrupted (130, 143). */
export function runWatch(
  settings: WatchSettings,
  deps: StreamClientDeps,
  io: WatchIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const clock = deps.clock ?? systemClock;
  const shownUrl = settings.url.href.replace(/\/$/, '');
  const p: Palette = palette(settings.colour);
  const screen = settings.mode === 'live' ? new LiveScreen(io.stdout) : null;
  let state: WatchState = initialWatchState(
    { untilDone: settings.untilDone, sinceMs: settings.sinceMs, timeoutMs: settings.timeoutMs },
    clock.now(),
  );

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      client.stop();
      clearInterval(ticker);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      offOutputError();
      screen?.end();
      resolve(code);
    };

    const show = (output: WatchOutput[]): void => {
      const log: string[] = [];
      for (const o of output) {
        if (o.kind === 'event') {
          if (settings.mode === 'json') io.stdout.write(`${o.raw}\n`);
          // A log (CI, a file) is read later and in full: a backtrace is printed whole.
          else if (settings.mode === 'lines') io.stdout.write(`${eventLine(o.event, p, true)}\n`);
          else if (!o.poll) log.push(...eventLine(o.event, p, o.event.type.endsWith('.failed')).split('\n'));
        } else if (screen !== null) {
          if (!quietOnScreen(o.notice)) log.push(`${p.yellow('!')} ${noticeLine(o.notice, shownUrl)}`);
        } else {
          io.stderr.write(`restore-watcher: ${noticeLine(o.notice, shownUrl)}\n`);
        }
      }
      draw(log);
    };

    const draw = (log: string[]): void => {
      if (screen === null) return;
      const width = Math.max(20, (io.stdout.columns ?? 80) - 1);
      const extra = followUp.viewLines(state, p).map((l) => fit(l, width));
      const view = liveView(state, clock.now(), { palette: p, width, url: shownUrl });
      // Under the restore, above the connection line.
      screen.draw(log, [...view.slice(0, -1), ...extra, ...view.slice(-1)]);
    };

    // Lines that stay: above the live view on a terminal, else with the notices on stderr.
    const followUp = new RestoreFollowUp(
      settings,
      deps.transport,
      clock,
      (lines) => {
        if (screen !== null) draw(lines);
        else io.stderr.write(lines.map((l, i) => (i === 0 ? `restore-watcher: ${l}\n` : `  ${l}\n`)).join(''));
      },
      // Only the live view shows a running restore's progress.
      screen !== null ? 5000 : null,
    );
    let ending = false;

    const step = (input: WatchInput): void => {
      if (finished) return;
      const r = reduceWatch(state, input, clock.now());
      state = r.state;
      show(r.output);
      followUp.observe(state, input, clock.now());
      if (state.outcome !== null && !ending) {
        ending = true;
        const code = exitCode(state.outcome);
        // The forgotten backups of the restore that decided are shown before watch exits.
        void followUp.settled().then(() => finish(code));
      }
    };

    const client = new EventStreamClient(
      { url: settings.url, user: settings.user, password: settings.password, heartbeatMs: settings.heartbeatMs },
      { ...deps, clock },
      step,
    );
    // Redraws the spinner and clocks, and lets the reducer notice a timeout.
    const ticker = setInterval(() => step({ kind: 'tick' }), screen !== null ? 100 : 250);
    const onInt = (): void => finish(130);
    const onTerm = (): void => finish(143);
    // `watch --json | head` closing the pipe early is the reader's choice, not an error.
    let offOutputError = (): void => {};
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    offOutputError = onBrokenPipe(io.stdout, () => finish(0));
    screen?.begin();
    show([]);
    client.start();
  });
}

/** On a terminal the view already shows these. */
function quietOnScreen(n: Notice): boolean {
  return n.kind === 'done';
}
