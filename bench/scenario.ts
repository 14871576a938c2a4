/**
 * What every benchmark scenario provides, and what the runner gives it. A
 * scenario says whether it can run on this checkout (its prerequisite may not
 * exist yet) and, when it can, measures and returns tables for BENCHMARKS.md.
 */

export interface BenchContext {
  /** The repository root: `bin/restore-watcher.cjs`, `dist-cli/` (the bundle it runs) and `dist/` (per-module, for the stage measurements) are under it. */
  root: string;
  /** The command line of the agent under test. */
  bin: string;
  /**
   * The Node.js that runs the agent and the baselines it is compared with (readline,
   * `node -e 0`): ratios are taken on one runtime. The bench's own process runs on
   * whichever started it.
   */
  node: string;
  /** A scratch directory for generated logs, removed when the suite ends. */
  workDir: string;
  /** Smaller inputs and fewer rounds, for a quick look rather than figures to quote. */
  quick: boolean;
  /** Rounds per measurement, when the command line sets it. */
  rounds: number | null;
  /** Progress for the person waiting; not part of the report. */
  log(message: string): void;
}

export interface Table {
  caption: string;
  header: string[];
  rows: string[][];
}

export interface ScenarioResult {
  /** One sentence with the figure that matters, for the summary and the README. */
  headline: string;
  /** Whether the scenario's goal held, or null when it has no pass/fail goal. */
  goalMet: boolean | null;
  tables: Table[];
  /** How the figures were taken, and anything a reader needs to trust them. */
  notes: string[];
}

export interface Scenario {
  /** The number used in the issue and on the command line (`--only 1,3`). */
  id: number;
  /** Short name, also accepted by `--only`. */
  name: string;
  title: string;
  goal: string;
  /** Why the scenario cannot run on this checkout, or null when it can. */
  missing(ctx: BenchContext): Promise<string | null>;
  /** How the scenario measures, written into the report (and shown when it is skipped). */
  design: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
