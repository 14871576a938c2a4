/**
 * What the agent's log says about each thing the follower noticed (one row per
 * notice kind: its level, the fields and the message) and about each event filed.
 */
import type { Logger } from 'pino';
import type { ProgressLogThrottle } from '../log-output.js';
import type { WatchEvent } from '../model.js';
import type { FollowerNotice } from '../tail/follower.js';

type Kind = FollowerNotice['kind'];
type NoticeOf<K extends Kind> = Extract<FollowerNotice, { kind: K }>;

export interface NoticeLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

const NOTICES: { [K in Kind]: (n: NoticeOf<K>) => NoticeLine } = {
  waiting: (n) => ({ level: 'warn', fields: { path: n.path }, message: 'log file does not exist yet; waiting for it to appear' }),
  opened: (n) => ({ level: 'info', fields: { path: n.path, offset: n.offset, inode: n.identity.ino }, message: 'following log file' }),
  rotated: (n) => ({
    level: 'info',
    fields: { path: n.path, fromInode: n.from.ino, toInode: n.to.ino, rotatedInBetween: n.between },
    message: 'log file rotated; reading the old one to its end first',
  }),
  truncated: (n) =>
    n.recoveredFrom !== null
      ? {
          level: 'info',
          fields: { path: n.path, at: n.at, size: n.size, recoveredFrom: n.recoveredFrom, bytesRecovered: n.bytesRecovered },
          message: 'log file truncated (copytruncate); read the rest from its rotated copy, reading it again from the start',
        }
      : {
          level: 'warn',
          fields: { path: n.path, at: n.at, size: n.size },
          message: 'log file truncated and no rotated copy holds what followed; reading it again from the start',
        },
  'copy-read': (n) => ({
    level: 'info',
    fields: { path: n.path, from: n.from, bytes: n.bytes },
    message: 'read a rotated copy that had not been read',
  }),
  missing: (n) => ({ level: 'warn', fields: { path: n.path }, message: 'log file disappeared; waiting for it to be re-created' }),
  unreadable: (n) => ({
    level: 'error',
    fields: { path: n.path, reason: n.reason },
    message: 'log file cannot be read; looking again on every check',
  }),
  resumed: (n) => ({
    level: 'info',
    fields: { path: n.path, offset: n.offset, from: n.from },
    message: 'resumed from the checkpoint',
  }),
  'resume-lost': (n) => ({
    level: 'warn',
    fields: { path: n.path, offset: n.offset },
    message: 'the checkpointed log content is gone (rotated away and deleted while stopped); reading the log from its start',
  }),
  error: (n) => ({
    level: 'error',
    fields: { path: n.path, err: n.message },
    message: 'reading the log failed; retrying on the next check',
  }),
};

/** The log line for a notice. */
export function noticeLine(n: FollowerNotice): NoticeLine {
  return (NOTICES[n.kind] as (n: FollowerNotice) => NoticeLine)(n);
}

/** Event messages (a backtrace, say) are cut to this many characters in the log; the journal has them whole. */
const MAX_LOGGED_MESSAGE = 2000;

/**
 * Writes the log line for an event filed in the journal, at the level the
 * throttle gives it (an operation's many progress events are not each a line at
 * info).
 */
export function logEvent(logger: Pick<Logger, 'info' | 'debug'>, e: WatchEvent, throttle: ProgressLogThrottle, now: number): void {
  const level = throttle.level(e, now);
  const quiet = level === 'info' ? throttle.quietBefore : 0;
  logger[level](
    {
      ...(quiet > 0 ? { progressEventsNotLogged: quiet } : {}),
      event: { id: e.id, type: e.type, operation: e.operation.id, state: e.state, time: e.time },
      message: e.message.length > MAX_LOGGED_MESSAGE ? `${e.message.slice(0, MAX_LOGGED_MESSAGE)}…` : e.message,
    },
    `${e.type} ${e.operation.id}`,
  );
}

/** Writes the log line for a notice. */
export function logNotice(logger: Pick<Logger, NoticeLine['level']>, n: FollowerNotice): void {
  const line = noticeLine(n);
  logger[line.level](line.fields, line.message);
}
