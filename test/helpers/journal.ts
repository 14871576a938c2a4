import { readFileSync } from 'node:fs';
import type { AgentStatus } from '../../src/agent/status.js';
import type { Config } from '../../src/config.js';
import { defaultConfig } from '../../src/defaults.js';
import { Journal } from '../../src/journal/journal.js';
import { EVENT_TYPES } from '../../src/model.js';
import { Pipeline, pipelineOptions } from '../../src/pipeline.js';

/** A journal holding the events of the named fixtures, replayed in order through one pipeline. */
export function fixtureJournal(names: string[], config: Config = defaultConfig()): { journal: Journal; pipeline: Pipeline } {
  const journal = new Journal({ maxEvents: 1000 });
  const pipeline = new Pipeline(pipelineOptions(config), 'production.log');
  for (const name of names) {
    pipeline.startFile(name);
    journal.append(pipeline.push(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url))));
    journal.append(pipeline.end());
  }
  // The input is complete, as for replay: what waits for a verdict is settled.
  journal.append(pipeline.finish());
  return { journal, pipeline };
}

/** An AgentStatus over a journal, as the agent would report it after reading the fixtures. */
export function statusOf(journal: Journal, pipeline: Pipeline, overrides: Partial<AgentStatus> = {}): AgentStatus {
  const events = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as AgentStatus['counters']['events'];
  for (const e of journal.all()) events[e.type]++;
  return {
    state: 'idle',
    restore: journal.latest('restore'),
    backup: journal.latest('backup'),
    follower: { path: 'production.log', exists: true, readable: true, error: null, offset: 0, identity: null, linesRead: pipeline.counters.lines, caughtUp: true },
    lastEventId: journal.lastId,
    journal: { events: journal.size, firstId: journal.firstId, dropped: 0 },
    persistence: { ok: true, error: null, since: null },
    readError: null,
    counters: {
      pipeline: pipeline.counters,
      follower: {
        bytesRead: 1234,
        rotations: 2,
        truncations: 1,
        missing: 1,
        reopens: 2,
        copiesRead: 1,
        bytesRecovered: 99,
        unreadable: 0,
        resumes: 0,
        resumesLost: 0,
        errors: 0,
      },
      events,
      persistence: { checkpoints: 5, journalCompactions: 0, journalTornBytes: 0, journalSkippedLines: 0, journalLostEvents: 0, writeFailures: 0 },
    },
    ...overrides,
  };
}
