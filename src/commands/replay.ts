/**
 * `restore-watcher replay FILE`: reads a production.log once, start to end, and
 * tells the story of every restore and backup in it. Streams with one reused
 * buffer, so a 1 GB log replays in constant memory.
 */
import type { Writable } from 'node:stream';
import type { Config } from '../config.js';
import { defaultConfig } from '../defaults.js';
import { RestoreWatcherError } from '../errors.js';
import { EventJson, type ByteSink } from '../event-json.js';
import type { WatchEvent } from '../model.js';
import { Pipeline, pipelineOptions } from '../pipeline.js';
import { LazyPipeline } from '../scan/lazy.js';
import { HELP_FLAG, helpShown, onBrokenPipe, parseFlags, type Command } from './flags.js';
import { fdOutput, writesOnPool } from './fd-output.js';
import { openByteSource } from './replay-input.js';

const REPLAY_HELP = `Usage: restore-watcher replay FILE [--json] [--explain] [--timezone TZ] [--config FILE]

Reads FILE (a backup-agent production.log, or a rotated production.log.1.gz:
gzip-compressed files are read as such; - reads stdin) from start to end and prints
a timeline for each restore and backup: when it was requested and by whom, state changes,
logger messages, order polls (counted), and the failure message in full; then one
summary line per restore and backup; under each ended restore, the backups the
Backup Manager no longer knows after it (see docs/after-restore.md). Lines in
neither log format are counted, never fatal.

  --json          Print the events as JSON Lines instead, one event per line and nothing
                  else: the same objects the live agent serves on /events.
  --explain       For every line instead: the record it was read as, the restore or
                  backup it was attributed to (or why none) and the rule that decided
                  (docs/explain.md). With --json, one JSON object per line.
  --timezone TZ   Zone the Ruby Logger timestamps were written in: "auto" (the default:
                  the offset of the access lines around them, UTC before any) or a
                  zone such as Europe/Berlin.
  --config FILE   Take the timezone and tracking rules (track.rules) from a config file.

Exit status: 0 when the file was read (whatever the restores' outcome), 66 when it
cannot be read, 64 on a usage error.

Examples:
  restore-watcher replay /var/vcap/sys/log/backup-agent/production.log
  restore-watcher replay production.log --json | jq -r 'select(.type == "restore.failed") | .message'
  restore-watcher replay /var/vcap/sys/log/backup-agent/production.log.1.gz
  bosh -d a9s-pg ssh pg/0 -c 'sudo cat /var/vcap/sys/log/backup-agent/production.log' | restore-watcher replay -
  restore-watcher replay production.log --explain | less
`;

export const replayCommand: Command = {
  synopsis: 'restore-watcher replay FILE [--json] [--explain] [--timezone TZ] [--config FILE]',
  summary: 'Read a production.log once and tell the story of every restore and backup in it.',
  help: REPLAY_HELP,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      {
        json: { type: 'boolean', default: false },
        explain: { type: 'boolean', default: false },
        timezone: { type: 'string' },
        config: { type: 'string' },
        ...HELP_FLAG,
      },
      true,
    );
    const shown = helpShown(values, REPLAY_HELP);
    if (shown !== null) return shown;
    if (positionals.length !== 1) throw new RestoreWatcherError('RW_USAGE', 'replay takes exactly one FILE (see replay --help)');
    let config: Config = defaultConfig();
    // The validation library loads only when there is something to validate.
    if (values.config !== undefined || values.timezone !== undefined) {
      const { loadConfigFile, parseConfig } = await import('../config.js');
      if (values.config !== undefined) config = await loadConfigFile(values.config);
      if (values.timezone !== undefined) {
        config = parseConfig({ ...config, log: { ...config.log, timezone: values.timezone } }, '--timezone');
      }
    }
    // stdout is made at the first write: on a pipe that loads the socket and stream
    // libraries, which a replay with nothing to print never needs.
    const out = (): Writable => {
      scavengeOnOneThread();
      const stdout = (): Writable => {
        onBrokenPipe(process.stdout);
        return process.stdout;
      };
      if (!writesOnPool(1)) return stdout();
      const pooled = fdOutput(1, stdout);
      onBrokenPipe(pooled);
      return pooled;
    };
    await replayFile(positionals[0]!, { json: values.json, explain: values.explain, config, out });
    return 0;
  },
};

/**
 * Has V8 make its minor collections on the main thread alone, once replay has output to write.
 * A replay allocates a young generation's worth (2 MiB under the job's `--max-semi-space-size=2`)
 * about every millisecond, and nearly none of it survives: a parallel scavenge has next to nothing
 * to share out, and waking its helper threads for each of some 600 collections cost more than it
 * saved, more so on a small VM whose other core reads replay's output. V8 reads the flag at each
 * minor collection (ScavengerCollector::NumberOfScavengeTasks), so setting it now takes effect, and
 * it is outside the flag hash that keys compiled code. Not done at start: node:v8 loads the stream
 * library, which the output loads anyway but a replay printing nothing never needs.
 */
function scavengeOnOneThread(): void {
  process.getBuiltinModule('node:v8').setFlagsFromString('--no-parallel-scavenge');
}

export interface ReplayOptions {
  json: boolean;
  /** Explain every line instead of telling the events. */
  explain?: boolean;
  /** False reads every line even for --json (the lazy reader's differential test compares the two). */
  lazy?: boolean;
  config: Config;
  /**
   * Where the output goes; a function is called once, at the first write. Its bytes
   * are written again once a write has called back: the stream must keep no chunk past that (stdout keeps none).
   */
  out: Writable | (() => Writable);
}

export interface ReplayResult {
  lines: number;
  events: number;
}

// A chunk's lines stay alive until the whole chunk is processed, and every minor
// collection copies what is alive: at 1 MiB a chunk that is most of the young
// generation, at 64 KiB a small part of it, while reads stay few.
const READ_SIZE = 64 * 1024;
// The lazy reader keeps no chunk's lines alive (it parses them in runs of at most 32 KiB, or not at all):
// it reads more at once, and a quiet log took 8 % less CPU at 256 KiB.
const LAZY_READ_SIZE = 256 * 1024;
const WRITE_BATCH = 256 * 1024;
/** Output handed to the stream and not yet called back for, past which replay waits for it. */
const MAX_UNWRITTEN = 4 * 1024 * 1024;

export async function replayFile(path: string, options: ReplayOptions): Promise<ReplayResult> {
  const source = await openByteSource(path);
  const name = path === '-' ? 'stdin' : path;
  // The report modules load only for the outputs that use them: --json starts sooner.
  const explain = options.explain === true ? await import('../report/explain.js') : null;
  const report = options.json || explain !== null ? null : await import('../report/timeline.js');
  const explainer = explain !== null ? new explain.Explainer() : null;
  // --json prints events only: lines that cannot make one need not be parsed. The
  // text summary counts unrecognised lines, and --explain tells every line: both read all.
  const lazy = options.json && explainer === null && options.lazy !== false ? new LazyPipeline(pipelineOptions(options.config), name) : null;
  const reader = lazy ?? new Pipeline(pipelineOptions(options.config), name);
  const pipeline = lazy?.pipeline ?? (reader as Pipeline);
  const out = new BatchedWriter(options.out);
  if (explainer !== null) {
    pipeline.decisions = explainer.decisions;
    pipeline.onLine = (line) => explainer.line(line);
    pipeline.onRecord = (record) => explainer.record(record);
  }
  const timeline = report === null ? null : new report.TimelinePrinter();
  const json = new EventJson();
  const tell = (events: WatchEvent[]): void => {
    if (explainer !== null) return;
    if (timeline === null) for (const e of events) json.write(e, out);
    else for (const e of events) out.add(timeline.event(e));
  };
  if (lazy !== null) lazy.onEvents = tell;
  const emit = async (events: WatchEvent[]): Promise<void> => {
    tell(events);
    await out.maybeFlush();
  };
  // A plain file is read synchronously: replay has nothing else to do meanwhile, and
  // a read from the page cache costs less than the promise and thread-pool round trip
  // of an asynchronous one (measured: the pool's hand-off took a third of a lazy
  // replay). A compressed file or stdin comes as a stream.
  const buffer = Buffer.allocUnsafe(lazy !== null ? LAZY_READ_SIZE : READ_SIZE);
  try {
    for (;;) {
      // While the lazy reader skips lines, it has them read where it keeps them, not copied there.
      const into = lazy?.readBuffer(buffer.length) ?? buffer;
      const bytesRead = source.readSync !== undefined ? source.readSync(into) : await source.read(into);
      if (bytesRead === 0) break;
      await emit(reader.push(into.subarray(0, bytesRead)));
    }
    await emit(reader.finish());
  } finally {
    await source.close();
  }
  if (explainer !== null) {
    const lines = explainer.explained();
    if (options.json) for (const l of lines) out.add(`${JSON.stringify(l)}\n`);
    else out.add(explain!.renderExplained(lines));
  }
  if (timeline !== null) {
    out.add(timeline.finish());
    const ops = timeline.summaries();
    const c = pipeline.counters;
    const restores = ops.filter((o) => o.kind === 'restore').length;
    const backups = ops.length - restores;
    const why = Object.entries(c.unknown)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    out.add(
      `\n${name}: ${plural(c.lines, 'line')} (${c.records.unknown} not recognised${why ? `: ${why}` : ''}), ` +
        `${plural(restores, 'restore')}, ${plural(backups, 'backup')}\n`,
    );
    const { forgottenBackups, forgottenLines } = await import('../report/forgotten.js');
    const backupId = new RegExp(options.config.track.rules.backupIdPattern);
    for (const op of ops) {
      out.add(`${report!.summaryLine(op)}\n`);
      if (op.kind !== 'restore' || op.finishedAt === null) continue;
      const forgotten = forgottenBackups(op, ops, backupId);
      out.add(forgottenLines(forgotten).map((l) => `      ${l}\n`).join(''));
    }
  }
  await out.flush();
  return { lines: pipeline.counters.lines, events: pipeline.counters.events };
}

/**
 * Gathers text into large byte buffers and writes them whole. Text is encoded
 * as it comes, so no string outlives its event: a dense replay writes hundreds
 * of megabytes, and strings kept until a batch was joined were most of what the
 * young generation copied. A buffer is used again once the stream has called
 * back for it (a fresh one per batch left hundreds of megabytes for the
 * collector to free, and the process twice its size); the stream is waited for
 * only when much is not yet called back for, and then only for one batch, so the
 * reader of a pipe always has something to read while the next batch is made.
 * What counts is the callbacks, not the stream's own buffer: a file or
 * /dev/null is written at once, but calls back on a later tick, which replay,
 * reading synchronously, would never reach without waiting; all its output
 * stayed in memory until the end (a 96 MB log replayed to a file took 400 MB).
 */
class BatchedWriter implements ByteSink {
  bytes: Buffer = Buffer.allocUnsafe(WRITE_BATCH);
  used = 0;
  /** Filled batches not yet written; `whole` is the buffer to use again, null for text larger than one. */
  private readonly filled: { bytes: Buffer; whole: Buffer | null }[] = [];
  private readonly spare: Buffer[] = [];
  private stream: Writable | null = null;
  /** Bytes handed to the stream that it has not called back for. */
  private unconfirmed = 0;
  /** Replay waiting for the next write to complete, when too much is unwritten. */
  private waiting: { resolve: () => void; reject: (err: Error) => void } | null = null;

  constructor(private readonly out: Writable | (() => Writable)) {}

  add(text: string): void {
    if (text === '') return;
    // At most three bytes per UTF-16 unit: a conservative test that spares measuring the text.
    this.reserve(text.length * 3);
    this.used += this.bytes.write(text, this.used);
  }

  reserve(size: number): void {
    if (size <= this.bytes.length - this.used) return;
    this.spill();
    // Text larger than a batch gets a buffer of its own, written once and not used again. The
    // batch buffer it replaces was never handed to the stream: it waits in `spare` for the next spill.
    if (size > this.bytes.length) {
      if (this.bytes.length === WRITE_BATCH) this.spare.push(this.bytes);
      this.bytes = Buffer.allocUnsafe(size);
    }
  }

  async maybeFlush(): Promise<void> {
    if (this.filled.length > 0) await this.write();
  }

  /** Writes what is left and waits until all of it is written: replay's exit status says the output is complete. */
  async flush(): Promise<void> {
    this.spill();
    await this.write(0);
  }

  /** The current buffer, if it holds anything, joins the filled ones; a spare or fresh one takes its place. */
  private spill(): void {
    if (this.used === 0) return;
    const whole = this.bytes.length === WRITE_BATCH ? this.bytes : null;
    this.filled.push({ bytes: this.bytes.subarray(0, this.used), whole });
    this.bytes = this.spare.pop() ?? Buffer.allocUnsafe(WRITE_BATCH);
    this.used = 0;
  }

  private async write(maxUnwritten = MAX_UNWRITTEN): Promise<void> {
    if (this.filled.length > 0) {
      const out = (this.stream ??= typeof this.out === 'function' ? this.out() : this.out);
      for (const { bytes, whole } of this.filled) {
        this.unconfirmed += bytes.length;
        out.write(bytes, (err) => {
          this.unconfirmed -= bytes.length;
          if (whole !== null && (err === null || err === undefined)) this.spare.push(whole);
          const waiting = this.waiting;
          this.waiting = null;
          if (err !== null && err !== undefined) waiting?.reject(err);
          else waiting?.resolve();
        });
      }
      this.filled.length = 0;
      // One turn of the event loop: a write the pool finished is called back, and the stream
      // starts the next one, which would otherwise wait for replay's next pause.
      if (this.unconfirmed > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Waits for one batch to be written, not for all ('drain'): the reader always has the rest to read meanwhile.
    while (this.unconfirmed > maxUnwritten) {
      await new Promise<void>((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
    }
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
