/**
 * Owns when and in what order the agent's state reaches the disk. Events are
 * appended to the journal file as they are made; a checkpoint is written when
 * something changed (on a timer), at the end of a check that read the first bytes
 * of a new file or a rotated copy, and at once for events a tick made. Before
 * every checkpoint the journal is fsynced, so the checkpoint never covers events
 * that are not durable too.
 */
import type { Checkpoint } from '../journal/checkpoint.js';
import type { Journal } from '../journal/journal.js';
import type { WatchEvent } from '../model.js';
import type { PersistenceCounters } from './status.js';

/** The journal file, as persistence uses it (JournalStore). */
export interface JournalFile {
  append(events: readonly WatchEvent[]): void;
  sync(): void;
  maybeCompact(journal: Journal): boolean;
}

/** The checkpoint file, as persistence uses it (Checkpointer). */
export interface CheckpointFile {
  write(checkpoint: Checkpoint): void;
}

/** Where the follower is, as far as checkpoints care. */
export interface FollowerMarks {
  /** Bytes of the current content's head read so far. */
  headLength: number;
  /** Which content is being read (FileFollower.content). */
  content: number;
  /** Rotated copies read so far. */
  copiesRead: number;
}

export class Persistence {
  readonly counters: PersistenceCounters = { checkpoints: 0, journalCompactions: 0, journalTornBytes: 0 };
  /** Something changed since the last checkpoint. */
  private changed = false;
  /** A checkpoint was asked for when none could be written; it is written when the check ends. */
  private due = false;
  /** The follower's content the last checkpoint knew by some of its bytes (-1: none). */
  private content = -1;
  /** The follower's count of rotated copies read, as of the last checkpoint. */
  private copies = 0;

  constructor(
    private readonly journalFile: JournalFile,
    private readonly checkpointFile: CheckpointFile,
  ) {}

  get dirty(): boolean {
    return this.changed;
  }

  /** Something a checkpoint should cover has happened. */
  touch(): void {
    this.changed = true;
  }

  /** A checkpoint could not be written now; the end of the check writes it. */
  defer(): void {
    this.due = true;
  }

  /** At the end of a check: whether a checkpoint is wanted now. */
  wantedAfterCheck(marks: FollowerMarks): boolean {
    // A file is recognised after a rotation by its first bytes: checkpoint them as soon as they are read.
    const firstBytes = marks.headLength > 0 && this.content !== marks.content;
    // Bytes read from rotated copies are not a position a checkpoint can name: it must follow them.
    const copies = marks.copiesRead !== this.copies;
    return this.due || firstBytes || copies;
  }

  /** Appends new events to the journal file, compacting it when it holds too much. */
  append(events: readonly WatchEvent[], journal: Journal): void {
    this.journalFile.append(events);
    if (this.journalFile.maybeCompact(journal)) this.counters.journalCompactions++;
  }

  /** Fsyncs the journal, then writes the checkpoint. */
  checkpoint(checkpoint: Checkpoint, marks: FollowerMarks): void {
    this.due = false;
    this.journalFile.sync();
    this.checkpointFile.write(checkpoint);
    this.counters.checkpoints++;
    this.changed = false;
    this.content = checkpoint.position !== null && checkpoint.position.head.length > 0 ? marks.content : -1;
    this.copies = marks.copiesRead;
  }
}
