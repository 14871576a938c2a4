import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config.js';
import { compileRequest, compileRules, findRequest, matchesRequest, pollFails, requestRules } from '../../src/track/rules.js';
import { random } from '../helpers/random.js';

describe('request rules', () => {
  it.each([
    // rule, path, matches
    [{ method: 'POST', path: '/v1/restore' }, '/v1/restore', true],
    [{ method: 'POST', path: '/v1/restore' }, '/v1/restores', false],
    [{ method: 'POST', path: '/v2/restores/:id' }, '/v2/restores/41', true],
    [{ method: 'POST', path: '/v2/restores/:id' }, '/v2/restores/41/x', false],
    [{ method: 'POST', path: '/v2/restores/:id' }, '/v2/restores/', false],
    [{ method: 'POST', pattern: '/v[12]/restores?' }, '/v1/restore', true],
    [{ method: 'POST', pattern: '/v[12]/restores?' }, '/x/v1/restore', false],
    [{ method: 'POST', pattern: '^/v[12]/restores?$' }, '/v2/restores', true],
  ])('%j takes %s: %s', (rule, path, matches) => {
    expect(matchesRequest(compileRequest('r', rule), 'POST', path)).toBe(matches);
    expect(matchesRequest(compileRequest('r', rule), 'GET', path)).toBe(false);
  });

  it.each([
    [{ method: 'POST', path: '/v1/restore' }, '/v1/restore', '/v1/restore'],
    [{ method: 'POST', path: '/v2/restores/:id/start' }, null, '/v2/restores/'],
    [{ method: 'POST', pattern: '/v1/restores?' }, null, '/v1/restore'],
    [{ method: 'POST', pattern: '^/v1\\.0/x' }, null, '/v1.0/x'],
    [{ method: 'POST', pattern: '/v1/(restore|backup)' }, null, null],
    [{ method: 'POST', pattern: '.*' }, null, null],
  ])('%j: literal path %s, literal prefix %s', (rule, literalPath, literalPrefix) => {
    const m = compileRequest('r', rule);
    expect(m.method).toBe('POST');
    expect(m.literalPath).toBe(literalPath);
    expect(m.literalPrefix).toBe(literalPrefix);
  });

  it('names each rule by its key and place, for replay --explain', () => {
    const rules = compileRules({ restoreRequest: [{ method: 'POST', path: '/a' }, { method: 'PUT', path: '/b/:id' }] });
    expect(findRequest(rules.restoreRequests, 'PUT', '/b/7')?.name).toBe('restoreRequest[1] PUT /b/:id');
  });

  // requestRules keeps its answers for the last two requests: in any order, with two sets of
  // rules taking turns and strings equal but not the same, it answers as the three lists do.
  it('tells the rules of a request as findRequest does, whatever came before', () => {
    const sets = [
      compileRules(),
      compileRules({ restoreRequest: { method: 'POST', path: '/v1/order' }, progressRequests: [{ method: 'GET', path: '/v1/status' }] }),
    ];
    const requests = [
      ['POST', '/v1/restore'],
      ['POST', '/v1/backup'],
      ['POST', '/v1/order'],
      ['GET', '/v1/order'],
      ['GET', '/v1/status'],
      ['GET', '/'],
    ] as const;
    const rand = random(5);
    for (let i = 0; i < 2000; i++) {
      const rules = sets[Math.floor(rand() * sets.length)]!;
      const [method, path] = requests[Math.floor(rand() * requests.length)]!;
      // A copy half the time: the same text in another string.
      const p = rand() < 0.5 ? path : [...path].join('');
      const restore = findRequest(rules.restoreRequests, method, p);
      const start = restore ?? findRequest(rules.backupRequests, method, p);
      const poll = start === null ? findRequest(rules.progressRequests, method, p) : null;
      expect({ ...requestRules(rules, method, p) }).toMatchObject({ restore, start, poll });
    }
  });

  it('reads poll failure statuses as codes and classes', () => {
    const rules = compileRules({ pollFailureStatuses: ['404', '5xx'] });
    expect([200, 404, 409, 500, 503].map((s) => pollFails(rules, s))).toEqual([false, true, false, true, true]);
  });
});

describe('track.rules in the config', () => {
  const problems = (rules: unknown): string[] => {
    const r = configSchema.safeParse({ track: { rules } });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a single request rule or a list, with a path or a pattern', () => {
    expect(problems({ restoreRequest: { path: '/v2/restores/:id' } })).toEqual([]);
    expect(problems({ restoreRequest: [{ method: 'PUT', pattern: '/v[12]/restore' }, { path: '/v1/restore' }] })).toEqual([]);
  });

  it('rejects what it could not use, naming the key', () => {
    expect(problems({ restoreRequest: { path: '/a', pattern: '/a' } })).toEqual([
      expect.stringMatching(/^track\.rules\.restoreRequest.*exactly one of path and pattern/),
    ]);
    expect(problems({ pollFailureStatuses: ['600'] })).toEqual([expect.stringMatching(/^track\.rules\.pollFailureStatuses\.0: expected a status code/)]);
    expect(problems({ phases: [{ name: 'Download!', pattern: 'x' }] })).toEqual([expect.stringMatching(/^track\.rules\.phases\.0\.name/)]);
    expect(problems({ backupIdPattern: '(' })).toEqual(['track.rules.backupIdPattern: expected a valid regular expression']);
    expect(problems({ failureGraceSeconds: -1 })).toEqual([expect.stringMatching(/^track\.rules\.failureGraceSeconds/)]);
  });
});
