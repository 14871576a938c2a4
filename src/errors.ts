/**
 * The catalogue of errors a user can see. Each has a stable code, an exit status
 * and a one-line message; the CLI prints `restore-watcher: <message>` and never a
 * stack trace for these. Anything not listed here is a bug and propagates.
 */
export const ERROR_CODES = {
  RW_USAGE: { exit: 64, summary: 'the command line is wrong (unknown command, flag or value)' },
  RW_FILE_NOT_FOUND: { exit: 66, summary: 'a file named on the command line does not exist' },
  RW_FILE_UNREADABLE: { exit: 66, summary: 'a file exists but cannot be read (permissions, a directory)' },
  RW_CONFIG_UNREADABLE: { exit: 78, summary: 'the config file cannot be read or is not JSON' },
  RW_CONFIG_INVALID: { exit: 78, summary: 'the config file has unknown keys or wrong values' },
  RW_INSECURE_BIND: { exit: 78, summary: 'listening on a non-loopback address without a password' },
  RW_TLS_UNREADABLE: { exit: 78, summary: 'the TLS certificate or key cannot be read' },
  RW_LISTEN_FAILED: { exit: 69, summary: 'the HTTP port cannot be opened (in use, not permitted)' },
  RW_STATE_DIR: { exit: 73, summary: 'the state directory cannot be created or locked' },
  RW_STATE_LOCKED: { exit: 75, summary: 'another restore-watcher (its pid is named) is using the state directory' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a code from the catalogue and a message for the operator. */
export class RestoreWatcherError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RestoreWatcherError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/** Turns a Node fs error on `path` into the catalogue's wording. */
export function fileError(path: string, err: unknown): RestoreWatcherError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new RestoreWatcherError('RW_FILE_NOT_FOUND', `${path}: no such file`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM')
    return new RestoreWatcherError('RW_FILE_UNREADABLE', `${path}: permission denied`, { cause: err });
  if (code === 'EISDIR') return new RestoreWatcherError('RW_FILE_UNREADABLE', `${path}: is a directory`, { cause: err });
  const reason = (err as Error)?.message ?? String(err);
  return new RestoreWatcherError('RW_FILE_UNREADABLE', `${path}: cannot read (${reason})`, { cause: err });
}
