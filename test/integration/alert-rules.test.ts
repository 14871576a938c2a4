import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/defaults.js';
import { buildServer } from '../../src/serve/server.js';
import { fixtureJournal, statusOf } from '../helpers/journal.js';
import { haveTool } from '../helpers/tools.js';

const path = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const RULES = path('docs/alerts.yml');
const RULE_TESTS = path('test/prometheus/alerts.test.yml');
const rules = readFileSync(RULES, 'utf8');

describe.skipIf(!haveTool('promtool', 'prometheus'))('the alerting rules (docs/alerts.yml)', () => {
  it('pass promtool check rules', async () => {
    const r = await execa('promtool', ['check', 'rules', RULES], { reject: false, all: true });
    expect(r.all).toContain('SUCCESS: 7 rules found');
    expect(r.exitCode).toBe(0);
  });

  it('fire and stay quiet as test/prometheus/alerts.test.yml says, under promtool test rules', async () => {
    const r = await execa('promtool', ['test', 'rules', RULE_TESTS], { reject: false, all: true });
    expect(r.all).toContain('SUCCESS');
    expect(r.exitCode).toBe(0);
  });

  it('have a promtool test for every alert', () => {
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!));
    expect(alerts.filter((alert) => !tested.has(alert))).toEqual([]);
  });
});

describe('the alerting rules and the agent', () => {
  it('name only metrics the agent exports', async () => {
    const { journal, pipeline } = fixtureJournal(['backup-then-restore.log'], defaultConfig());
    const server = await buildServer({ config: defaultConfig(), journal, status: () => statusOf(journal, pipeline) });
    const body = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    await server.app.close();
    const exported = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = [...new Set([...rules.matchAll(/\brestore_watcher_\w+/g)].map((m) => m[0]))];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('include the metrics page\'s alert example word for word', () => {
    const section = readFileSync(path('docs/metrics.md'), 'utf8');
    const examples = [...section.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    expect(examples.length).toBeGreaterThan(0);
    const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();
    for (const example of examples) expect(normalise(rules), example).toContain(normalise(example));
  });
});
