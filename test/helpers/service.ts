import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { onTestFinished } from 'vitest';
import { parseConfig, type ConfigInput } from '../../src/config.js';
import type { RestoreWatcherError } from '../../src/errors.js';
import { startService, type RunningService } from '../../src/service.js';

export interface TestService extends RunningService {
  dir: string;
  logPath: string;
  stateDir: string;
  /** Stops the service and removes its directory (once, however often it is called). */
  dispose(): Promise<void>;
}

/** Starts the whole service on a temp directory and 127.0.0.1:0, silent unless told otherwise. */
export async function startTestService(
  overrides: ConfigInput = {},
  options: { logger?: pino.Logger; dir?: string } = {},
): Promise<TestService> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rw-test-'));
  const logPath = join(dir, 'production.log');
  const stateDir = join(dir, 'state');
  const config = parseConfig({
    ...overrides,
    log: { path: logPath, pollIntervalMs: 50, ...overrides.log },
    http: { host: '127.0.0.1', port: 0, ...overrides.http },
    stateDir: overrides.stateDir ?? stateDir,
  });
  const service = await startService(config, { logger: options.logger ?? pino({ level: 'silent' }) });
  let disposed: Promise<void> | null = null;
  return {
    ...service,
    dir,
    logPath,
    stateDir,
    dispose: () =>
      (disposed ??= (async () => {
        await service.close();
        if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

/** startTestService inside a test: disposed when the test ends, passed or failed (a test may dispose it sooner). */
export async function serviceForTest(overrides: ConfigInput = {}, options: { logger?: pino.Logger; dir?: string } = {}): Promise<TestService> {
  const service = await startTestService(overrides, options);
  onTestFinished(() => service.dispose());
  return service;
}

/** The error a start that must fail throws; fails the test when it starts. */
export async function startError(promise: Promise<unknown>): Promise<RestoreWatcherError> {
  try {
    await promise;
  } catch (err) {
    return err as RestoreWatcherError;
  }
  throw new Error('expected the service to refuse to start');
}
