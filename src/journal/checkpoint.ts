/**
 * The checkpoint remembers where the agent is: which file content it was reading
 * (device, inode, and a fingerprint of its first bytes and of the bytes before the
 * offset), the offset after the last line fully processed, and the tracker's state
 * at that point (which holds the next event id). Re-reading the log from the
 * checkpoint with that tracker state regenerates the same events with the same ids,
 * so a restart neither loses nor repeats one.
 *
 * It also carries the events that re-reading cannot regenerate: those a tick made
 * (a stall noticed on the wall clock). They are written here before they go to the
 * journal, and loaded into the journal on start.
 *
 * One JSON file with a format version, replaced atomically on every write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES, OPERATION_STATES, type WatchEvent } from '../model.js';
import type { ZoneState } from '../parse/records.js';
import type { FilePosition } from '../tail/identity.js';
import type { TrackerState } from '../track/tracker.js';
import { nonEmpty, numberIn, z } from '../validation.js';
import { writeFileAtomic } from './durable-file.js';

export const CHECKPOINT_FORMAT = 'restore-watcher.checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoint.json';

export interface Checkpoint {
  /** The log path the position belongs to. */
  path: string;
  /** The file content being read; null when none was open (read the file at the path from 0). */
  position: FilePosition | null;
  /** Heads of the rotated copies already read or accounted for, to tell a copy made while the agent was down. */
  knownCopies: Buffer[];
  tracker: TrackerState;
  /**
   * What the parser learned of the zone (`timezone: auto`) at the position: logger
   * lines read after a resume take the offset they would have taken. Null with a
   * fixed zone, and in checkpoints written before it was kept (then UTC until the
   * next access line, as before).
   */
  zone: ZoneState | null;
  /** Events made by ticks since the previous checkpoint: they cannot be regenerated from the log. */
  events: WatchEvent[];
}

/**
 * The file's schema, made on first use: only a restart has a checkpoint to read, and
 * making it costs a first start a few milliseconds.
 */
let fileSchema: ReturnType<typeof makeFileSchema> | null = null;

function makeFileSchema() {
  const base64 = z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/));
  const time = z.number();
  const iso = nonEmpty();
  const count = numberIn({ int: true, min: 0 });
  const whole = numberIn({ int: true });
  const eventId = numberIn({ int: true, min: 1 });
  const states = z.enum(OPERATION_STATES);
  // Every field the tracker and the HTTP layer read is checked: a wrong-typed one
  // would otherwise make the tracker throw on every line while the agent looks up.
  const operationSchema = z.looseObject({
    kind: z.enum(['restore', 'backup']),
    id: nonEmpty(),
    state: states,
    requestedAt: iso,
    requestedBy: z.string(),
    requestStatus: whole,
    finishedAt: z.nullable(iso),
    lastActivityAt: iso,
    durationMs: z.nullable(z.number()),
    orderPolls: count,
    messages: count,
    lastMessage: z.nullable(z.string()),
    failure: z.nullable(z.string()),
  });
  const trackerSchema = z.looseObject({
    nextEventId: eventId,
    active: z.nullable(z.looseObject({ op: operationSchema, requestedMs: time, lastActivityMs: time })),
    latestRestore: z.nullable(operationSchema),
    latestBackup: z.nullable(operationSchema),
    lastOperationId: z.nullable(z.string()),
    clock: z.nullable(time),
  });
  const eventSchema = z.looseObject({
    id: eventId,
    type: z.enum(EVENT_TYPES),
    time: iso,
    state: states,
    file: z.string(),
    offset: count,
    line: z.string(),
    message: z.string(),
    operation: operationSchema,
  });
  return z.object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: whole,
    path: z.string(),
    position: z.nullable(
      z.object({
        dev: count,
        ino: count,
        head: base64,
        tail: base64,
        offset: count,
      }),
    ),
    knownCopies: z.array(base64),
    tracker: trackerSchema,
    zone: z.optional(z.nullable(z.object({ offset: numberIn({ int: true, min: -24 * 60, max: 24 * 60 }), lastAccessTime: z.nullable(time) }))),
    events: z.array(eventSchema),
    writtenAt: z.string(),
  });
}

export type CheckpointLoad =
  | { kind: 'none' }
  | { kind: 'loaded'; checkpoint: Checkpoint }
  | { kind: 'unusable'; reason: string };

/** Reads and writes the checkpoint file in the state directory. */
export class Checkpointer {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, CHECKPOINT_FILE);
  }

  load(): CheckpointLoad {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      return { kind: 'unusable', reason: `cannot be read (${(err as Error).message})` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { kind: 'unusable', reason: `not JSON (${(err as Error).message})` };
    }
    fileSchema ??= makeFileSchema();
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const version = (json as { version?: unknown } | null)?.version;
      if (typeof version === 'number' && version !== CHECKPOINT_VERSION) {
        return { kind: 'unusable', reason: `format version ${version}, this agent reads ${CHECKPOINT_VERSION}` };
      }
      return { kind: 'unusable', reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    }
    const v = parsed.data;
    if (v.version !== CHECKPOINT_VERSION) {
      return { kind: 'unusable', reason: `format version ${v.version}, this agent reads ${CHECKPOINT_VERSION}` };
    }
    const p = v.position;
    return {
      kind: 'loaded',
      checkpoint: {
        path: v.path,
        position:
          p === null
            ? null
            : {
                identity: { dev: p.dev, ino: p.ino },
                head: Buffer.from(p.head, 'base64'),
                tail: Buffer.from(p.tail, 'base64'),
                offset: p.offset,
              },
        knownCopies: v.knownCopies.map((k) => Buffer.from(k, 'base64')),
        tracker: v.tracker as unknown as TrackerState,
        zone: v.zone ?? null,
        events: v.events as unknown as WatchEvent[],
      },
    };
  }

  /** Replaces the checkpoint atomically (temp file, fsync, rename, fsync of the directory). */
  write(checkpoint: Checkpoint): void {
    const p = checkpoint.position;
    const json = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      path: checkpoint.path,
      position:
        p === null
          ? null
          : {
              dev: p.identity.dev,
              ino: p.identity.ino,
              head: p.head.toString('base64'),
              tail: p.tail.toString('base64'),
              offset: p.offset,
            },
      knownCopies: checkpoint.knownCopies.map((k) => k.toString('base64')),
      tracker: checkpoint.tracker,
      zone: checkpoint.zone,
      events: checkpoint.events,
      writtenAt: new Date().toISOString(),
    };
    writeFileAtomic(this.file, JSON.stringify(json));
  }
}
