import { join } from 'node:path';
import pino from 'pino';
import { onTestFinished } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig, type ConfigInput } from '../../src/config.js';
import { lineOfRestore } from './lines.js';
import { tempDir } from './temp.js';

export interface AgentDir {
  dir: string;
  log: string;
  stateDir: string;
}

/** A temp directory for an agent's log and state, removed when the test ends. */
export function agentDir(): AgentDir {
  const dir = tempDir('rw-agent-');
  return { dir, log: join(dir, 'production.log'), stateDir: join(dir, 'state') };
}

/**
 * An agent on `where`, in-process, whose follower the test drives with
 * `agent.follower.check()` (no watcher, no timers), so that the test decides what
 * the agent has read when the filesystem changes. Stopped when the test ends
 * (stopping twice is harmless).
 */
export async function startDrivenAgent(
  where: AgentDir,
  overrides: ConfigInput = {},
  options: { now?: () => number; logger?: pino.Logger } = {},
): Promise<Agent> {
  const config = parseConfig({
    ...overrides,
    log: { path: where.log, pollIntervalMs: 50, rotationGraceMs: 1000, ...overrides.log },
    stateDir: where.stateDir,
  });
  const agent = new Agent({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
    watch: false,
    ...(options.now ? { now: options.now } : {}),
  });
  await agent.start();
  // Stopped before its directory is removed: onTestFinished runs in reverse order of registration.
  onTestFinished(() => agent.stop());
  return agent;
}

/** The numbered lines (see `numberedLine`) an agent has journaled, in order. */
export function deliveredBy(agent: Agent): number[] {
  return agent.journal.all().flatMap((e) => (e.type === 'restore.failed' ? [lineOfRestore(e.operation.id)] : []));
}
