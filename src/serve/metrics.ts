/**
 * `/metrics`: what the agent has seen and how its HTTP side is doing, in the
 * Prometheus text format. Every value is read from the agent's, the stream hub's
 * and the probe's own counters when scraped (prom-client's `collect`), so nothing
 * on the hot path knows about Prometheus. Counters count since the process
 * started, as Prometheus expects.
 *
 * prom-client (and the OpenTelemetry API it brings) is loaded, and the registry
 * made, on the first scrape or once the agent has caught up, whichever comes
 * first: start-up has no use for it, and every value but the runtime's own
 * (garbage collections, event-loop lag: prom-client watches those from when the
 * registry is made) is read when scraped anyway.
 */
import type { Registry } from 'prom-client';
import type { AgentStatus } from '../agent/status.js';
import { EVENT_TYPES, OPERATION_STATES, type Operation, type OperationKind } from '../model.js';
import type { ProbeStatus } from '../probe/readiness.js';
import type { LogOutputCounters } from '../log-output.js';
import type { ConnectionGuard } from './connections.js';
import type { StreamHub } from './sse.js';
import type { HookCounters } from '../hooks/runner.js';
import type { RestoreInsight } from '../report/after-restore.js';

export const METRIC_PREFIX = 'restore_watcher_';
/** How often prom-client samples the event loop's delay (its default). */
const LAG_RESOLUTION_MS = 10;

export interface MetricsSources {
  status: () => AgentStatus;
  streams: StreamHub;
  probe?: () => ProbeStatus;
  version: string;
  connections?: ConnectionGuard;
  /** What the agent's own log output dropped; absent when the caller gave its own logger. */
  logOutput?: () => LogOutputCounters;
  /** Phases, time left and forgotten backups of the latest restore. */
  insight?: () => (RestoreInsight & { restoreId: string }) | null;
  hooks?: () => HookCounters;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** The registry being filled and the prom-client module its metrics come from. */
interface Target {
  prom: typeof import('prom-client');
  registry: Registry;
}

const named = ({ registry }: Target, name: string, help: string, labelNames: string[]) => ({
  name: METRIC_PREFIX + name,
  help,
  labelNames,
  registers: [registry],
});

/** A counter whose value is read at scrape time from a counter kept elsewhere. */
function readCounter(target: Target, name: string, help: string, labelNames: string[], read: () => Sample[]): void {
  new target.prom.Counter({
    ...named(target, name, help, labelNames),
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** A gauge read at scrape time; a sample left out is not exported (e.g. no restore yet). */
function readGauge(target: Target, name: string, help: string, labelNames: string[], read: () => Sample[]): void {
  let empty = false;
  const gauge = new target.prom.Gauge({
    ...named(target, name, help, labelNames),
    collect() {
      this.reset();
      const samples = read();
      empty = samples.length === 0;
      for (const [labels, value] of samples) this.set(labels, value);
    },
  });
  // A gauge without labels reports 0 after reset(); a timestamp of 0 would be a lie, so leave it out.
  const get = gauge.get.bind(gauge);
  gauge.get = async () => {
    const metric = await get();
    return empty ? { ...metric, values: [] } : metric;
  };
}

const one = (value: number): Sample[] => [[{}, value]];
const seconds = (iso: string | null): Sample[] => (iso === null ? [] : one(Date.parse(iso) / 1000));

/** A scrape's answer: the text and its content type. */
export interface Scrape {
  text: string;
  contentType: string;
}

/** Answers scrapes from a registry made when first needed. */
export interface Metrics {
  scrape(): Promise<Scrape>;
  /** Makes the registry now, if no scrape has yet (once the agent has caught up). */
  prepare(): Promise<void>;
}

export function buildMetrics(sources: MetricsSources): Metrics {
  let made: Promise<Registry> | null = null;
  /** When the registry was made: its event-loop monitor has a sample two resolutions later. */
  let sampledAt = 0;
  const registry = (): Promise<Registry> =>
    (made ??= import('prom-client').then((prom) => {
      sampledAt = performance.now() + 2 * LAG_RESOLUTION_MS;
      return fillRegistry(prom, sources);
    }));
  return {
    async scrape() {
      const r = await registry();
      // A monitor without a sample would answer a minimum lag of 2^63 ns and a mean of NaN.
      const wait = sampledAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return { text: await r.metrics(), contentType: r.contentType };
    },
    async prepare() {
      await registry();
    },
  };
}

/** A registry of its own (not prom-client's global one), so several servers in one process never collide. */
function fillRegistry(prom: typeof import('prom-client'), sources: MetricsSources): Registry {
  const target: Target = { prom, registry: new prom.Registry() };
  const status = sources.status;
  const c = (): AgentStatus['counters'] => status().counters;

  readGauge(target, 'build_info', 'Version of restore-watcher and of Node.js; always 1.', ['version', 'nodejs_version'], () => [
    [{ version: sources.version, nodejs_version: process.version }, 1],
  ]);

  // tail and split
  readCounter(target, 'log_lines_read_total', 'Lines read from the backup-agent log.', [], () => one(c().pipeline.lines));
  readCounter(target, 'log_read_bytes_total', 'Bytes read from the backup-agent log.', [], () => one(c().follower.bytesRead));
  readCounter(target, 'log_rotations_total', 'Rotations of the log seen (the path came to name a new file).', [], () =>
    one(c().follower.rotations),
  );
  readCounter(target, 'log_truncations_total', 'Truncations of the log seen (it was read again from the start).', [], () =>
    one(c().follower.truncations),
  );
  readCounter(
    target,
    'log_recovered_bytes_total',
    'Bytes read from a rotated copy of the log after the path had moved on to a new file.',
    [],
    () => one(c().follower.bytesRecovered),
  );
  readCounter(target, 'log_missing_total', 'Times the log was deleted or renamed away with nothing in its place.', [], () =>
    one(c().follower.missing),
  );
  readCounter(target, 'log_rotated_copies_read_total', 'Rotated copies of the log read from (.1, .1.gz, …).', [], () =>
    one(c().follower.copiesRead),
  );
  readCounter(target, 'checkpoints_total', 'Checkpoints of the read position and tracker state written.', [], () =>
    one(c().persistence.checkpoints),
  );
  readGauge(target, 'persistence_ok', '1 while state reaches the state directory, 0 while writes are refused (serving from memory).', [], () =>
    one(status().persistence.ok ? 1 : 0),
  );
  readCounter(target, 'persistence_write_failures_total', 'Writes to the state directory that were refused (retried with backoff).', [], () =>
    one(c().persistence.writeFailures),
  );
  readCounter(target, 'journal_skipped_lines_total', 'Damaged journal lines skipped at start (the events around them kept).', [], () =>
    one(c().persistence.journalSkippedLines),
  );
  readCounter(target, 'log_read_errors_total', 'Failed reads of the log (retried on the next check).', [], () =>
    one(c().follower.errors),
  );
  readGauge(target, 'log_file_present', '1 when the log file exists, 0 while waiting for it.', [], () =>
    one(status().follower.exists ? 1 : 0),
  );
  readGauge(target, 'log_offset_bytes', 'Byte offset read so far in the current log file.', [], () => one(status().follower.offset));

  // parse: lines that cannot change what the idle tracker tells are counted as lines and not parsed
  readCounter(target, 'log_parsed_records_total', 'Records of the lines parsed, by kind; lines skipped while no operation runs are not in it.', ['kind'], () =>
    Object.entries(c().pipeline.records).map(([kind, n]) => [{ kind }, n]),
  );
  readCounter(target, 'log_parsed_unknown_lines_total', 'Parsed lines in neither log format, by reason; lines skipped while no operation runs are not in it.', ['reason'], () =>
    Object.entries(c().pipeline.unknown).map(([reason, n]) => [{ reason }, n]),
  );

  // track and journal
  readCounter(target, 'events_total', 'Restore and backup events, by type.', ['type'], () =>
    EVENT_TYPES.map((type) => [{ type }, c().events[type]]),
  );
  readGauge(target, 'journal_events', 'Events held in the journal.', [], () => one(status().journal.events));
  readCounter(target, 'journal_dropped_events_total', 'Oldest events dropped from the journal to keep it bounded.', [], () =>
    one(status().journal.dropped),
  );
  for (const kind of ['restore', 'backup'] as const satisfies readonly OperationKind[]) operationMetrics(target, kind, status);

  // serve
  const hub = sources.streams;
  readGauge(target, 'stream_clients', 'Open event streams.', [], () => one(hub.size));
  readCounter(target, 'stream_clients_opened_total', 'Event streams opened.', [], () => one(hub.counters.opened));
  readCounter(
    target,
    'stream_clients_dropped_total',
    'Event streams ended, by reason: slow (stopped reading and was dropped), closed (the client left), shutdown, unreadable (its catch-up could not be read from the journal).',
    ['reason'],
    () => Object.entries(hub.counters.dropped).map(([reason, n]) => [{ reason }, n]),
  );
  readGauge(target, 'stream_buffered_bytes', 'Bytes written to event streams and not yet sent, all clients together.', [], () =>
    one(hub.bufferedBytes),
  );

  const connections = sources.connections;
  if (connections !== undefined) {
    readGauge(target, 'http_connections', 'Open HTTP connections (at most the connection cap).', [], () => one(connections.size));
    readCounter(
      target,
      'http_connections_closed_total',
      'Connections closed by the cap, by reason: evicted (the oldest idle one, to admit a new one), refused (all were busy).',
      ['reason'],
      () => [
        [{ reason: 'evicted' }, connections.counters.evicted],
        [{ reason: 'refused' }, connections.counters.refused],
      ],
    );
  }
  const logOutput = sources.logOutput;
  if (logOutput !== undefined) {
    readCounter(target, 'log_output_dropped_lines_total', "Lines of the agent's own log dropped because its stdout reader was slow.", [], () =>
      one(logOutput().droppedLines),
    );
  }

  // probe
  const probe = sources.probe;
  if (probe !== undefined) {
    readGauge(target, 'postgresql_ready', '1 when the readiness probe last succeeded, 0 otherwise; absent without a probe.', [], () => {
      const p = probe();
      return p.state === 'off' ? [] : one(p.state === 'ready' ? 1 : 0);
    });
    readGauge(target, 'probe_last_check_timestamp_seconds', 'When the readiness probe last ran.', [], () =>
      seconds(probe().checkedAt),
    );
  }

  if (sources.insight !== undefined) insightMetrics(target, sources.insight);
  const hooks = sources.hooks;
  if (hooks !== undefined) {
    readCounter(target, 'hook_runs_total', 'Hook command runs started, retries included.', [], () => one(hooks().runs));
    readCounter(target, 'hook_failures_total', 'Hook command runs that failed (non-zero exit, could not start, timed out).', [], () =>
      one(hooks().failures),
    );
    readCounter(target, 'hook_timeouts_total', 'Hook command runs killed at the timeout.', [], () => one(hooks().timeouts));
    readCounter(target, 'hook_given_up_total', 'Hook commands given up on for an event after every attempt failed.', [], () =>
      one(hooks().givenUp),
    );
  }

  prom.collectDefaultMetrics({ register: target.registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: LAG_RESOLUTION_MS });
  // prom-client exports these three totals as gauges named `_total`, a suffix Prometheus
  // keeps for counters (`promtool check metrics` fails on them). They are the sums of the
  // by-type gauges it also exports (`…_active_handles{type}`, …), so drop them.
  for (const total of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    target.registry.removeSingleMetric(METRIC_PREFIX + total);
  }
  return target.registry;
}

/** The latest restore's phase, time per phase, estimate of time left, and how many backups it made the Backup Manager forget. */
function insightMetrics(target: Target, insight: NonNullable<MetricsSources['insight']>): void {
  readGauge(target, 'latest_restore_phase_seconds', "Time the latest restore spent in each phase (so far, for the current one).", ['phase'], () =>
    (insight()?.phases ?? []).map((p) => [{ phase: p.phase }, p.ms / 1000]),
  );
  readGauge(target, 'latest_restore_current_phase', "The latest restore's current phase; always 1; absent once it ended or without phases.", ['phase'], () =>
    (insight()?.phases ?? []).filter((p) => p.current).map((p) => [{ phase: p.phase }, 1]),
  );
  readGauge(
    target,
    'latest_restore_remaining_seconds',
    'Estimated time left for the active restore: the median of earlier successful restores less the time so far; absent without a basis.',
    ['basis'],
    () => {
      const e = insight()?.estimate ?? null;
      return e === null ? [] : [[{ basis: e.basis }, e.remainingMs / 1000]];
    },
  );
  readGauge(target, 'latest_restore_estimate_basis_restores', 'How many earlier successful restores the estimate is the median of; absent without an estimate.', [], () => {
    const e = insight()?.estimate ?? null;
    return e === null ? [] : one(e.from);
  });
  readGauge(
    target,
    'latest_restore_forgotten_backups',
    'Backups made after the point the latest restore went back to (or, when it named no backup, the candidates), which the Backup Manager no longer knows.',
    ['basis'],
    () => {
      const f = insight()?.forgotten ?? null;
      return f === null ? [] : [[{ basis: f.basis }, f.forgottenBackups.length]];
    },
  );
}

/** The latest restore's (backup's) state as a state set, its id, and its timestamps. */
function operationMetrics(target: Target, kind: OperationKind, status: () => AgentStatus): void {
  const latest = (): Operation | null => status()[kind];
  const name = (suffix: string): string => `latest_${kind}_${suffix}`;
  readGauge(target, name('state'), `The latest ${kind}'s state: 1 on its state, 0 on the others; absent before the first ${kind}.`, ['state'], () => {
    const op = latest();
    return op === null ? [] : OPERATION_STATES.map((state) => [{ state }, op.state === state ? 1 : 0]);
  });
  readGauge(target, name('info'), `The latest ${kind}'s id; always 1.`, ['id'], () => {
    const op = latest();
    return op === null ? [] : [[{ id: op.id }, 1]];
  });
  readGauge(target, name('requested_timestamp_seconds'), `When the latest ${kind} was requested (log time).`, [], () =>
    seconds(latest()?.requestedAt ?? null),
  );
  readGauge(target, name('last_activity_timestamp_seconds'), `The latest ${kind}'s last line in the log (log time).`, [], () =>
    seconds(latest()?.lastActivityAt ?? null),
  );
  readGauge(target, name('finished_timestamp_seconds'), `When the latest ${kind} ended; absent while it is active.`, [], () =>
    seconds(latest()?.finishedAt ?? null),
  );
  readGauge(target, name('duration_seconds'), `How long the latest ${kind} took; absent while it is active.`, [], () => {
    const ms = latest()?.durationMs ?? null;
    return ms === null ? [] : one(ms / 1000);
  });
}
