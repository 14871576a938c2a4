import { describe, expect, it } from 'vitest';
import { parseFlags, parsePort, parseSeconds, passwordFromEnv } from '../../src/commands/flags.js';
import { closest } from '../../src/text.js';
import { RestoreWatcherError } from '../../src/errors.js';

const options = {
  json: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  port: { type: 'string' },
} as const;

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RestoreWatcherError);
    expect((err as RestoreWatcherError).exitCode).toBe(64);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('flags', () => {
  it.each([
    [['--jsn'], 'unknown flag --jsn (did you mean --json?); see --help'],
    [['--verbose'], 'unknown flag --verbose; see --help'],
    [['--timeout'], '--timeout needs a value; see --help'],
    [['--json=yes'], '--json takes no value; see --help'],
    [['extra'], 'unexpected argument extra; this command takes flags only (see --help)'],
  ])('%j is refused with a message that names the flag', (args, message) => {
    expect(usageError(() => parseFlags(args, options, false))).toBe(message);
  });

  it('a negative value reaches the flag instead of being read as a flag', () => {
    expect(parseFlags(['--timeout', '-5'], options, false).values.timeout).toBe('-5');
    expect(usageError(() => parseSeconds('--timeout', '-5'))).toBe('--timeout: expected a number of seconds > 0, got "-5"');
  });

  it.each(['abc', '0x10', '1e3', '', '65536', '-1', '80.5'])('port %j is refused, naming the flag', (value) => {
    expect(usageError(() => parsePort('--port', value))).toContain('--port: expected a port number');
  });

  it('ports and seconds in plain decimal are taken', () => {
    expect(parsePort('--port', '0')).toBe(0);
    expect(parsePort('--port', '9465')).toBe(9465);
    expect(parseSeconds('--timeout', '2.5')).toBe(2.5);
    for (const v of ['0', '1e3', '0x10', ' 5', 'Infinity']) expect(() => parseSeconds('--timeout', v)).toThrow(RestoreWatcherError);
  });

  it('suggests only near misses', () => {
    expect(closest('jsn', ['json', 'config'])).toBe('json');
    expect(closest('state-dri', ['state-dir', 'log'])).toBe('state-dir');
    expect(closest('zzz', ['json', 'config'])).toBeNull();
  });

  it('an empty RESTORE_WATCHER_PASSWORD is no password', () => {
    expect(passwordFromEnv({ RESTORE_WATCHER_PASSWORD: '' })).toBeNull();
    expect(passwordFromEnv({})).toBeNull();
    for (const blank of [' ', '\t', ' \n ']) {
      expect(() => passwordFromEnv({ RESTORE_WATCHER_PASSWORD: blank })).toThrow(/only whitespace/);
    }
    expect(passwordFromEnv({ RESTORE_WATCHER_PASSWORD: 's3cret' })).toBe('s3cret');
  });
});
