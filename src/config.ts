/**
 * The agent's configuration: one zod schema, parsed once at the edge. A partial
 * file is fine (defaults fill the rest); unknown keys and wrong types are errors
 * that name the key and what was expected. Everything past this module takes the
 * typed `Config`.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_CONFIG as D } from './defaults.js';
import { RestoreWatcherError } from './errors.js';
import { SEVERITIES } from './model.js';
import { closest } from './text.js';

// Each schema here parses once or twice in a process (the config, a checkpoint): zod's
// default of compiling an object schema into a function on its first parse costs more
// than it saves then (about 1.5 ms of the config's 3 ms parse).
z.config({ jitless: true });

const regexSource = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

const requestMatcher = z
  .strictObject({
    method: z.string().min(1).default('POST'),
    /** A literal path; a `:name` segment matches any one segment (`/v2/restores/:id`). */
    path: z.string().startsWith('/').optional(),
    /** A regular expression the whole path must match (it is anchored at both ends). */
    pattern: regexSource.optional(),
  })
  .refine((m) => (m.path === undefined) !== (m.pattern === undefined), { message: 'give exactly one of path and pattern' });

const requestRule = z.union([requestMatcher, z.array(requestMatcher).min(1)]);

const statusRule = z.string().regex(/^[1-5](?:\d\d|xx)$/, { message: 'expected a status code such as "404" or a class such as "5xx"' });

const phaseRule = z.strictObject({
  name: z.string().min(1).regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'expected a short name such as "wal-replay"' }),
  pattern: regexSource,
  kind: z.enum(['restore', 'backup']).optional(),
});

const timezone = z.string().refine(
  (tz) => {
    if (tz === 'auto') return true;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin", or "auto"' },
);

/** The tracker's rules as data: which lines start, advance and end an operation (docs/rules.md). */
export const rulesSchema = z.strictObject({
  restoreRequest: requestRule.default(() => structuredClone(D.track.rules.restoreRequest)),
  backupRequest: requestRule.default(() => structuredClone(D.track.rules.backupRequest)),
  progressRequests: z.array(requestMatcher).default(() => structuredClone(D.track.rules.progressRequests)),
  /** Poll answers that are not progress but trouble: "404", "5xx". */
  pollFailureStatuses: z.array(statusRule).default(() => [...D.track.rules.pollFailureStatuses]),
  /** Logger messages (regular expressions, case-insensitive) that end an operation successfully. */
  successMessages: z.array(regexSource).default(() => [...D.track.rules.successMessages]),
  /** Logger messages that fail an operation, whatever their severity (after the grace, as severities). */
  failureMessages: z.array(regexSource).default(() => [...D.track.rules.failureMessages]),
  /** Logger severities that fail an operation, unless it logs a success within the grace. */
  failureSeverities: z.array(z.enum(SEVERITIES)).default(() => [...D.track.rules.failureSeverities]),
  /** Seconds on the log's clock an error (or failing polls) waits for a success before the verdict. */
  failureGraceSeconds: z.number().min(0).max(3600).default(D.track.rules.failureGraceSeconds),
  /** Named phases, entered when a message matches. */
  phases: z.array(phaseRule).default(() => structuredClone(D.track.rules.phases)),
  /** How a backup is named in messages; group 1, if any, is its creation time in epoch ms. */
  backupIdPattern: regexSource.default(D.track.rules.backupIdPattern),
  /** A logger line from a new process id during an operation means the backup-agent restarted. */
  restartOnNewPid: z.boolean().default(D.track.rules.restartOnNewPid),
});
export type Rules = z.infer<typeof rulesSchema>;

const port = z.number().int().min(0).max(65535);

export const configSchema = z.strictObject({
  log: z
    .strictObject({
      path: z.string().min(1).default(D.log.path),
      /** The zone the Ruby Logger writes its timestamps in (they carry none); `auto`: the access lines' offset. */
      timezone: timezone.default(D.log.timezone),
      /** Longer lines are cut to this many bytes, flagged and counted. */
      maxLineBytes: z.number().int().min(256).max(16 * 1024 * 1024).default(D.log.maxLineBytes),
      /** Fallback poll interval for when fs.watch misses a change. */
      pollIntervalMs: z.number().int().min(10).max(60_000).default(D.log.pollIntervalMs),
      /** How long a renamed log is kept open after rotation, since the writer may still append. */
      rotationGraceMs: z.number().int().min(0).max(600_000).default(D.log.rotationGraceMs),
    })
    .prefault({}),
  track: z
    .strictObject({
      /** Silence (on the log's own clock) after which an active operation is reported stalled. */
      stallAfterSeconds: z.number().positive().default(D.track.stallAfterSeconds),
      rules: rulesSchema.prefault({}),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().min(1).default(D.http.host),
      port: port.default(D.http.port),
      maxStreamClients: z.number().int().min(1).max(10_000).default(D.http.maxStreamClients),
      /** Open connections at most; lowered to keep file descriptors free below `ulimit -n`. */
      maxConnections: z.number().int().min(8).max(65_536).default(D.http.maxConnections),
      heartbeatSeconds: z.number().positive().max(3600).default(D.http.heartbeatSeconds),
      /** A stream client whose unsent bytes pass this is dropped. */
      maxStreamBufferBytes: z.number().int().min(1024).default(D.http.maxStreamBufferBytes),
      tls: z
        .strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) })
        .nullable()
        .default(null),
    })
    .prefault({}),
  auth: z
    .strictObject({
      username: z.string().min(1).default(D.auth.username),
      /** Also read from RESTORE_WATCHER_PASSWORD. */
      password: z
        .string()
        .min(1)
        .refine((v) => v.trim() !== '', 'must not be only whitespace')
        .nullable()
        .default(null),
    })
    .prefault({}),
  stateDir: z.string().min(1).default(D.stateDir),
  journal: z
    .strictObject({
      /** The journal keeps at most this many events; the oldest are dropped and counted. */
      maxEvents: z.number().int().min(100).max(10_000_000).default(D.journal.maxEvents),
      /** How often the read position and tracker state are checkpointed (when they changed). */
      checkpointIntervalMs: z.number().int().min(50).max(60_000).default(D.journal.checkpointIntervalMs),
    })
    .prefault({}),
  probe: z
    .strictObject({
      /** A PostgreSQL readiness command as an argument array, e.g. ["pg_isready", "-h", "127.0.0.1"]; null: off. */
      command: z.array(z.string().min(1)).min(1).nullable().default(null),
      intervalSeconds: z.number().positive().default(D.probe.intervalSeconds),
      timeoutSeconds: z.number().positive().default(D.probe.timeoutSeconds),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      /** Commands (argument arrays, no shell) run when a restore or backup ends, the event as JSON on stdin. */
      commands: z.array(z.array(z.string().min(1)).min(1)).default(() => []),
      /** Also run them when a restore or backup is reported stalled. */
      onStall: z.boolean().default(D.hooks.onStall),
      /** A run still going after this is killed and counts as failed. */
      timeoutSeconds: z.number().positive().max(3600).default(D.hooks.timeoutSeconds),
      /** Attempts per event and command, the first included. */
      maxAttempts: z.number().int().min(1).max(20).default(D.hooks.maxAttempts),
      /** Wait before the second attempt; doubled for each further one. */
      retryDelaySeconds: z.number().min(0).max(3600).default(D.hooks.retryDelaySeconds),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Every problem in `input`, one line each, naming the key and what was expected. */
export function configProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      const known = keysAt(configSchema, issue.path);
      return issue.keys
        .map((k) => {
          const near = closest(k, known);
          return `${where}${k}: unknown key${near !== null ? ` (did you mean ${where}${near}?)` : ''}`;
        })
        .join('\n');
    }
    return `${key}: ${issue.message}`;
  });
}

/** The keys the object schema at `path` inside `schema` allows (none when it is not an object). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  for (let i = 0; ; i++) {
    // Past defaults, prefaults and nullables to the schema they wrap.
    while (at !== undefined && !(at instanceof z.ZodObject) && !(at instanceof z.ZodArray) && 'unwrap' in at) {
      at = (at as unknown as { unwrap(): z.ZodType }).unwrap();
    }
    if (i === path.length || at === undefined) break;
    at = at instanceof z.ZodObject ? (at.shape as Record<string, z.ZodType>)[String(path[i])] : at instanceof z.ZodArray ? (at.element as z.ZodType) : undefined;
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** Validates an already-parsed object; throws RW_CONFIG_INVALID listing every problem. */
export function parseConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = configProblems(result.error);
    throw new RestoreWatcherError('RW_CONFIG_INVALID', `${source} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Reads and validates a JSON config file. */
export async function loadConfigFile(path: string): Promise<Config> {
  return parseConfig(await readConfigJson(path), path);
}

/** Reads a file as JSON, with the catalogue's errors for missing files and bad JSON. */
export async function readConfigJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new RestoreWatcherError('RW_CONFIG_UNREADABLE', `${path}: ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RestoreWatcherError('RW_CONFIG_UNREADABLE', `${path}: not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
}
