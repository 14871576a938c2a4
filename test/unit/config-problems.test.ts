import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { RestoreWatcherError } from '../../src/errors.js';

function problems(input: unknown): string[] {
  try {
    parseConfig(input, 'config.json');
  } catch (err) {
    expect(err).toBeInstanceOf(RestoreWatcherError);
    return (err as Error).message.split('\n').slice(1).map((l) => l.trim());
  }
  throw new Error('expected the config to be refused');
}

describe('config problems', () => {
  it.each([
    [{ statedir: '/tmp/x' }, 'statedir: unknown key (did you mean stateDir?)'],
    [{ http: { maxStreamClient: 5 } }, 'http.maxStreamClient: unknown key (did you mean http.maxStreamClients?)'],
    [{ log: { pth: '/x' } }, 'log.pth: unknown key (did you mean log.path?)'],
    [{ auth: { user: 'x' } }, 'auth.user: unknown key'],
    [{ http: { tls: { certfile: 'a', keyFile: 'b' } } }, 'http.tls.certfile: unknown key (did you mean http.tls.certFile?)'],
    [{ track: { rules: { progressRequests: [{ path: '/v1/order', methd: 'GET' }] } } }, 'track.rules.progressRequests.0.methd: unknown key (did you mean track.rules.progressRequests.0.method?)'],
    [{ http: { prot: 1 } }, 'http.prot: unknown key (did you mean http.port?)'],
    [{ colour: true }, 'colour: unknown key'],
  ])('%j: %s', (input, line) => {
    expect(problems(input)).toContain(line);
  });

  it.each([
    [{ http: { port: 70000 } }, 'http.port: Too big: expected number to be <=65535'],
    [{ http: { port: 1.5 } }, 'http.port: Invalid input: expected int, received number'],
    [{ http: { port: '80' } }, 'http.port: Invalid input: expected number, received string'],
    [{ http: { heartbeatSeconds: 0 } }, 'http.heartbeatSeconds: Too small: expected number to be >0'],
    [{ log: { maxLineBytes: 100 } }, 'log.maxLineBytes: Too small: expected number to be >=256'],
    [{ auth: { password: '   ' } }, 'auth.password: must not be only whitespace'],
    [{ log: { timezone: 'Mars/Olympus' } }, 'log.timezone: expected an IANA time zone such as "UTC" or "Europe/Berlin", or "auto"'],
    [{ track: { rules: { restoreRequest: { path: '/a', pattern: 'b' } } } }, 'track.rules.restoreRequest: give exactly one of path and pattern'],
    [{ track: { rules: { successMessages: ['('] } } }, 'track.rules.successMessages.0: expected a valid regular expression'],
    [{ track: { rules: { failureSeverities: ['BAD'] } } }, 'track.rules.failureSeverities.0: Invalid option: expected one of "DEBUG"|"INFO"|"WARN"|"ERROR"|"FATAL"|"ANY"'],
    [{ probe: { command: [] } }, 'probe.command: Too small: expected array to have >=1 items'],
    [{ track: { rules: { pollFailureStatuses: ['600'] } } }, 'track.rules.pollFailureStatuses.0: expected a status code such as "404" or a class such as "5xx"'],
  ])('%j: says what was expected', (input, line) => {
    expect(problems(input)).toEqual([line]);
  });
});
