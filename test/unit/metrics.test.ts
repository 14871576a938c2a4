import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import type { ProbeStatus } from '../../src/probe/readiness.js';
import { buildServer, type WatcherServer } from '../../src/serve/server.js';
import { fixtureJournal, statusOf } from '../helpers/journal.js';

const config = defaultConfig();
const { journal, pipeline } = fixtureJournal(['backup-then-restore.log', 'restore-failed-backtrace.log', 'garbage-between.log'], config);
const probe: ProbeStatus = {
  state: 'ready',
  program: 'pg_isready',
  checkedAt: '2018-11-20T13:05:00.000Z',
  durationMs: 12,
  exitCode: 0,
  output: 'accepting connections',
};
let server: WatcherServer;
let text: string;

beforeAll(async () => {
  server = await buildServer({
    config,
    journal,
    status: () => statusOf(journal, pipeline),
    probe: () => probe,
    logOutput: () => ({ droppedLines: 7, droppedBytes: 700 }),
  });
  const res = await server.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  text = res.body;
});
afterAll(async () => server.app.close());

const sample = (name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};
const ours = (): Array<{ name: string; type: string }> =>
  [...text.matchAll(/^# TYPE (restore_watcher_\S+) (\S+)$/gm)]
    .map((m) => ({ name: m[1]!, type: m[2]! }))
    .filter((m) => !/^restore_watcher_(process_|nodejs_)/.test(m.name));

describe('/metrics', () => {
  it('reads the pipeline and follower counters at scrape time', () => {
    const c = pipeline.counters;
    expect(sample('restore_watcher_log_lines_read_total')).toBe(c.lines);
    expect(sample('restore_watcher_log_read_bytes_total')).toBe(1234);
    expect(sample('restore_watcher_log_rotations_total')).toBe(2);
    expect(sample('restore_watcher_log_truncations_total')).toBe(1);
    expect(sample('restore_watcher_log_recovered_bytes_total')).toBe(99);
    expect(sample('restore_watcher_log_missing_total')).toBe(1);
    expect(sample('restore_watcher_log_rotated_copies_read_total')).toBe(1);
    expect(sample('restore_watcher_checkpoints_total')).toBe(5);
    for (const kind of ['access', 'logger', 'unknown'] as const)
      expect(sample(`restore_watcher_log_parsed_records_total{kind="${kind}"}`)).toBe(c.records[kind]);
    expect(c.unknown.unmatched).toBeGreaterThan(0);
    expect(sample('restore_watcher_log_parsed_unknown_lines_total{reason="unmatched"}')).toBe(c.unknown.unmatched);
  });

  it('counts events by type', () => {
    const failed = journal.all().filter((e) => e.type === 'restore.failed').length;
    expect(failed).toBeGreaterThan(0);
    expect(sample('restore_watcher_events_total{type="restore.failed"}')).toBe(failed);
    expect(sample('restore_watcher_journal_events')).toBe(journal.size);
  });

  it("gives the latest restore's state as a state set, its id and its timestamps in seconds", () => {
    const op = journal.latest('restore')!;
    expect(op.durationMs).not.toBeNull();
    for (const state of ['requested', 'running', 'stalled', 'succeeded', 'failed'])
      expect(sample(`restore_watcher_latest_restore_state{state="${state}"}`), state).toBe(state === op.state ? 1 : 0);
    expect(sample(`restore_watcher_latest_restore_info{id="${op.id}"}`)).toBe(1);
    expect(sample('restore_watcher_latest_restore_requested_timestamp_seconds')).toBe(Date.parse(op.requestedAt) / 1000);
    expect(sample('restore_watcher_latest_restore_finished_timestamp_seconds')).toBe(Date.parse(op.finishedAt!) / 1000);
    expect(sample('restore_watcher_latest_restore_duration_seconds')).toBe(op.durationMs! / 1000);
    expect(sample('restore_watcher_latest_backup_state{state="succeeded"}')).toBe(1);
  });

  it('shows stream clients, PostgreSQL readiness and build info', () => {
    expect(sample('restore_watcher_stream_clients')).toBe(0);
    expect(sample('restore_watcher_stream_clients_dropped_total{reason="slow"}')).toBe(0);
    expect(sample('restore_watcher_postgresql_ready')).toBe(1);
    expect(sample('restore_watcher_http_connections')).toBe(0);
    expect(sample('restore_watcher_http_connections_closed_total{reason="evicted"}')).toBe(0);
    expect(sample('restore_watcher_log_output_dropped_lines_total')).toBe(7);
    expect(text).toMatch(/^restore_watcher_build_info\{version="\d+\.\d+\.\d+",nodejs_version="v[\d.]+"\} 1$/m);
    expect(text).toMatch(/^restore_watcher_process_resident_memory_bytes \d+/m);
  });

  it('leaves out a timestamp that does not exist yet instead of reporting 0', async () => {
    const empty = fixtureJournal([]);
    const bare = await buildServer({ config, journal: empty.journal, status: () => statusOf(empty.journal, empty.pipeline) });
    const body = (await bare.app.inject({ method: 'GET', url: '/metrics' })).body;
    await bare.app.close();
    expect(body).toContain('# TYPE restore_watcher_latest_restore_requested_timestamp_seconds gauge');
    expect(body).not.toMatch(/^restore_watcher_latest_restore_\S* /m);
    expect(body).not.toMatch(/^restore_watcher_postgresql_ready /m);
  });

  it('follows the Prometheus naming conventions, prom-client\'s default metrics included', () => {
    expect(ours().length).toBeGreaterThan(20);
    const all = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(all.map((m) => m.name)).toContain('restore_watcher_nodejs_active_handles');
    for (const { name, type } of all) {
      expect(name).toMatch(/^restore_watcher_[a-z0-9_]+$/);
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      else expect(name, name).not.toMatch(/_total$/);
      if (/bytes|seconds/.test(name)) expect(name, name).toMatch(/_(bytes|seconds)(_total)?$/);
    }
  });

  it('every metric is listed in docs/metrics.md', () => {
    const readme = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const missing = ours().filter(({ name }) => !readme.includes(`\`${name}\``));
    expect(missing.map((m) => m.name)).toEqual([]);
  });
});
