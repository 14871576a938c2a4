/**
 * PostgreSQL readiness: the first thing an operator checks after a restore. Runs a
 * configured command (for example `pg_isready -h 127.0.0.1`) as an argument array
 * with execa, never through a shell, every `intervalSeconds`, killing it after
 * `timeoutSeconds`. Every outcome, including a command that does not exist, is a
 * reported state; nothing here throws into the agent.
 */
import type { Config } from '../config.js';

export type ProbeState =
  /** No probe configured. */
  | 'off'
  /** Configured, not run yet. */
  | 'pending'
  /** The command exited 0: PostgreSQL accepts connections. */
  | 'ready'
  /** The command exited non-zero (pg_isready: 1 rejecting, 2 no response, 3 bad arguments). */
  | 'not-ready'
  | 'timeout'
  /** The command could not be started (not installed, not executable). */
  | 'command-missing'
  | 'error';

export interface ProbeStatus {
  state: ProbeState;
  /** The program run (its arguments are not shown: they are the operator's business). */
  program: string | null;
  checkedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  /** The command's last line of output, or why it could not run; capped. */
  output: string | null;
}

/** Runs one probe: the command, its bound, and how to read the outcome. */
export async function probeOnce(
  command: readonly string[],
  timeoutMs: number,
  options: { now?: () => number; signal?: AbortSignal } = {},
): Promise<ProbeStatus> {
  const now = options.now ?? Date.now;
  const [program, ...args] = command as [string, ...string[]];
  const started = now();
  // Loaded on first use: execa and its dependencies cost a VM that has no probe configured ~15 MB.
  const { execa } = await import('execa');
  const result = await execa(program, args, {
    reject: false,
    timeout: timeoutMs,
    forceKillAfterDelay: 1000,
    stdin: 'ignore',
    all: true,
    maxBuffer: 64 * 1024,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  const base = { program, checkedAt: new Date(started).toISOString(), durationMs: now() - started };
  const output = lastLine(typeof result.all === 'string' ? result.all : '');
  if (result.isCanceled) return { ...base, state: 'pending', exitCode: null, output: 'stopped' };
  if (result.timedOut) return { ...base, state: 'timeout', exitCode: null, output: `no answer within ${timeoutMs} ms` };
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES') {
    const why = code === 'ENOENT' ? 'not found' : 'permission denied';
    return { ...base, state: 'command-missing', exitCode: null, output: `${program}: ${why}` };
  }
  if (result.failed && result.exitCode === undefined) {
    const why = result.signal ? `killed by ${result.signal}` : (result.shortMessage ?? null);
    return { ...base, state: 'error', exitCode: null, output: why };
  }
  return { ...base, state: result.exitCode === 0 ? 'ready' : 'not-ready', exitCode: result.exitCode ?? null, output };
}

function lastLine(text: string): string | null {
  const line = text.trim().split('\n').at(-1)?.trim() ?? '';
  return line === '' ? null : line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Owns the periodic probe and its latest result. */
export class ReadinessProbe {
  private current: ProbeStatus;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly config: Config['probe'],
    private readonly now: () => number = Date.now,
  ) {
    const program = config.command?.[0] ?? null;
    this.current = {
      state: program === null ? 'off' : 'pending',
      program,
      checkedAt: null,
      durationMs: null,
      exitCode: null,
      output: null,
    };
  }

  status(): ProbeStatus {
    return this.current;
  }

  /** Probes now and then every interval; a probe never overlaps the previous one. */
  start(): void {
    if (this.config.command === null || this.timer !== null) return;
    const run = (): void => {
      if (this.running !== null || this.abort.signal.aborted) return;
      this.running = this.check().finally(() => (this.running = null));
    };
    run();
    this.timer = setInterval(run, this.config.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Runs one probe and records it. */
  async check(): Promise<ProbeStatus> {
    const command = this.config.command;
    if (command === null) return this.current;
    try {
      const result = await probeOnce(command, this.config.timeoutSeconds * 1000, { now: this.now, signal: this.abort.signal });
      if (!this.abort.signal.aborted) this.current = result;
    } catch (err) {
      this.current = { ...this.current, state: 'error', output: (err as Error).message.split('\n')[0] ?? null };
    }
    return this.current;
  }

  /** Stops probing; a probe in flight is killed, so shutdown does not wait for its timeout. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
