import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { RestoreWatcherError } from '../../src/errors.js';
import { assertSecureBind, credentialsMatch, isLoopback, safeEqual } from '../../src/serve/auth.js';
import { preferredType } from '../../src/serve/replies.js';

describe('credential comparison', () => {
  it.each([
    ['same', 'same', true],
    ['same', 'Same', false],
    ['short', 'a much longer expected password', false],
    ['', '', true],
    ['pässwört', 'pässwört', true],
  ])('safeEqual(%j, %j) is %s, whatever the lengths', (a, b, want) => {
    expect(safeEqual(a, b)).toBe(want);
  });

  it('needs both fields right', () => {
    const expected = { username: 'admin', password: 'pw' };
    expect(credentialsMatch('admin', 'pw', expected)).toBe(true);
    expect(credentialsMatch('admin', 'nope', expected)).toBe(false);
    expect(credentialsMatch('root', 'pw', expected)).toBe(false);
    expect(credentialsMatch('', '', expected)).toBe(false);
  });
});

describe('secure default', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.1.5', false],
    ['my-vm.internal', false],
  ])('%s is loopback: %s', (host, want) => {
    expect(isLoopback(host)).toBe(want);
  });

  it('refuses a public bind without a password, saying how to set one', () => {
    const config = parseConfig({ http: { host: '0.0.0.0' } });
    let error: unknown;
    try {
      assertSecureBind(config);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RestoreWatcherError);
    expect((error as RestoreWatcherError).code).toBe('RW_INSECURE_BIND');
    expect((error as Error).message).toMatch(/RESTORE_WATCHER_PASSWORD/);
    expect((error as Error).message).toMatch(/auth\.password/);
  });

  it('refuses a password of only whitespace, so it cannot pass the public-bind check', () => {
    for (const password of [' ', '\t\n']) {
      expect(() => parseConfig({ http: { host: '0.0.0.0' }, auth: { password } })).toThrow(/only whitespace/);
    }
  });

  it('allows a public bind with a password, and loopback without one', () => {
    expect(() => assertSecureBind(parseConfig({ http: { host: '0.0.0.0' }, auth: { password: 'pw' } }))).not.toThrow();
    expect(() => assertSecureBind(parseConfig({}))).not.toThrow();
  });
});

describe('content negotiation for /', () => {
  it.each([
    [undefined, 'text/plain'],
    ['*/*', 'text/plain'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8', 'text/html'],
    ['application/json', 'application/json'],
    ['text/*', 'text/plain'],
    ['text/html;q=0.5, text/plain', 'text/plain'],
    ['text/plain;q=0, text/html', 'text/html'],
    ['image/png', 'text/plain'],
  ])('Accept %j gets %s', (accept, want) => {
    expect(preferredType(accept)).toBe(want);
  });
});
