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
});
