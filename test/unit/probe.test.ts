import { describe, expect, it } from 'vitest';
import { probeOnce, ReadinessProbe } from '../../src/probe/readiness.js';

/** Stand-ins for pg_isready: node scripts that answer, refuse, hang or are not there. */
const node = (script: string): string[] => [process.execPath, '-e', script];
const ACCEPTING = node('console.log("127.0.0.1:5432 - accepting connections")');
const NO_RESPONSE = node('console.log("127.0.0.1:5432 - no response"); process.exit(2)');
const HANGS = node('setTimeout(() => {}, 60_000)');

describe('probeOnce', () => {
  it('exit 0 is ready, with the last line of output', async () => {
    const r = await probeOnce(ACCEPTING, 5000);
    expect(r).toMatchObject({ state: 'ready', exitCode: 0, output: '127.0.0.1:5432 - accepting connections', program: process.execPath });
    expect(Date.parse(r.checkedAt!)).not.toBeNaN();
  });

  it('a non-zero exit is not-ready, with its code and output', async () => {
    expect(await probeOnce(NO_RESPONSE, 5000)).toMatchObject({ state: 'not-ready', exitCode: 2, output: '127.0.0.1:5432 - no response' });
  });

  it('a command that does not answer in time is killed and reported as timeout', async () => {
    const started = Date.now();
    expect(await probeOnce(HANGS, 300)).toMatchObject({ state: 'timeout', exitCode: null, output: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a command that is not installed is reported, not thrown', async () => {
    expect(await probeOnce(['/nonexistent/pg_isready', '-h', '127.0.0.1'], 1000)).toMatchObject({
      state: 'command-missing',
      output: '/nonexistent/pg_isready: not found',
    });
  });

  it('arguments are passed as they are, never through a shell', async () => {
    const r = await probeOnce(node('console.log(process.argv.slice(1).join("|"))').concat(['$HOME', '; echo hi', '`id`']), 5000);
    expect(r.output).toBe('$HOME|; echo hi|`id`');
  });
});

describe('ReadinessProbe', () => {
  it('is off without a command, and never runs', async () => {
    const probe = new ReadinessProbe({ command: null, intervalSeconds: 1, timeoutSeconds: 1 });
    probe.start();
    expect(probe.status().state).toBe('off');
    await probe.stop();
  });

  it('probes at start and reports the latest outcome', async () => {
    const probe = new ReadinessProbe({ command: ACCEPTING, intervalSeconds: 60, timeoutSeconds: 5 });
    expect(probe.status().state).toBe('pending');
    probe.start();
    await expect.poll(() => probe.status().state, { timeout: 5000 }).toBe('ready');
    await probe.stop();
  });

  it('stop kills a probe in flight instead of waiting for its timeout', async () => {
    const probe = new ReadinessProbe({ command: HANGS, intervalSeconds: 60, timeoutSeconds: 30 });
    probe.start();
    const started = Date.now();
    await probe.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(probe.status().state).toBe('pending');
  });
});
