import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh directory under the system's temp directory for the running test,
 * removed when the test ends, passed or failed. Call it inside a test (not in
 * beforeAll); what the test started is stopped first, as onTestFinished runs
 * after afterEach and in reverse order of registration.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
