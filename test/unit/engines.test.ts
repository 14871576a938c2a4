import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// semver ships no types; these are the two functions npm's own engine check uses.
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
};

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

describe('installed packages', () => {
  // npm prints `npm warn EBADENGINE` for every package whose engines.node the running Node
  // does not satisfy. The lowest Node our package.json admits must satisfy them all.
  it('all run on the oldest Node that package.json declares', () => {
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, LockedPackage & { engines?: { node?: string } }>;
    };
    const declared = lock.packages['']?.engines;
    const range = Array.isArray(declared) ? undefined : declared?.node;
    expect(range).toBeDefined();
    const oldest = semver.minVersion(range!)!.version;
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => {
        const needs = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return path !== '' && needs !== undefined && !semver.satisfies(oldest, needs, { includePrerelease: true });
      })
      .map(([path, entry]) => `${path}@${entry.version ?? '?'} needs node ${(entry.engines as { node: string }).node}`);
    expect(refusing, `Node ${oldest}`).toEqual([]);
  });
});
