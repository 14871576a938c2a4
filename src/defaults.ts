/**
 * Owns every default of the agent's configuration, as a plain literal: commands
 * run without a config file take it as it is, without loading the validation
 * library, and the config schema takes its defaults from here (a test checks
 * that the schema, given nothing, yields exactly this).
 */
import type { OperationKind, Severity } from './model.js';

/** Which request starts or advances an operation: a method and a path (`:name` matches one segment) or an anchored pattern. */
export interface RequestRule {
  method: string;
  path?: string;
  pattern?: string;
}

/** A named step of an operation, entered when a logger message matches `pattern`. */
export interface PhaseRule {
  name: string;
  pattern: string;
  /** The kind of operation the message belongs to; absent: either. */
  kind?: OperationKind;
}

export const DEFAULT_LOG_PATH = '/var/vcap/sys/log/backup-agent/production.log';
export const DEFAULT_PORT = 9465;
export const DEFAULT_STATE_DIR = '/var/vcap/data/restore-watcher';

/**
 * The default configuration. Its type is inferred, not the schema's `Config`: the
 * schema is built from these values, and wherever a `Config` is expected the
 * compiler checks that this fits.
 */
export const DEFAULT_CONFIG = {
  log: {
    path: DEFAULT_LOG_PATH,
    timezone: 'auto',
    maxLineBytes: 64 * 1024,
    pollIntervalMs: 250,
    rotationGraceMs: 5_000,
  },
  track: {
    stallAfterSeconds: 600,
    rules: {
      restoreRequest: { method: 'POST', path: '/v1/restore' } as RequestRule | RequestRule[],
      backupRequest: { method: 'POST', path: '/v1/backup' } as RequestRule | RequestRule[],
      progressRequests: [{ method: 'POST', path: '/v1/order' }] as RequestRule[],
      /** Poll answers that are not progress but a sign of trouble: status codes, `5xx` for a class. */
      pollFailureStatuses: ['404', '5xx'],
      successMessages: ['^success$'],
      failureMessages: [] as string[],
      failureSeverities: ['ERROR', 'FATAL'] as Severity[],
      /** How long (on the log's clock) an error or failing polls wait for a success before the operation fails. */
      failureGraceSeconds: 60,
      phases: [
        { name: 'download', pattern: '\\bdownload', kind: 'restore' },
        { name: 'restore', pattern: '\\brestor(?:e|ing) (?:the )?(?:base ?)?(?:backup|database|data)', kind: 'restore' },
        { name: 'wal-replay', pattern: '\\b(?:wal|xlog)\\b.*\\breplay|\\breplay(?:ing)? (?:the )?(?:wal|xlog)', kind: 'restore' },
        { name: 'upload', pattern: '\\bupload', kind: 'backup' },
      ] as PhaseRule[],
      /** A backup's name in messages; its first group, when there is one, is the backup's creation time in epoch ms. */
      backupIdPattern: '\\ba9s-pg-(\\d{13})\\b',
      /** A logger line from a new process id during an operation means the backup-agent restarted. */
      restartOnNewPid: true,
    },
  },
  http: {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    maxStreamClients: 32,
    maxConnections: 256,
    heartbeatSeconds: 15,
    maxStreamBufferBytes: 1024 * 1024,
    tls: null as { certFile: string; keyFile: string } | null,
  },
  auth: { username: 'admin', password: null as string | null },
  stateDir: DEFAULT_STATE_DIR,
  journal: { maxEvents: 100_000, checkpointIntervalMs: 1_000 },
  probe: { command: null as string[] | null, intervalSeconds: 10, timeoutSeconds: 5 },
};


/** A fresh copy of the defaults, for callers that change what they are given. */
export function defaultConfig(): typeof DEFAULT_CONFIG {
  return structuredClone(DEFAULT_CONFIG);
}
