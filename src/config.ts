/**
 * The agent's configuration: one zod schema, parsed once at the edge. A partial
 * file is fine (defaults fill the rest); unknown keys and wrong types are errors
 * that name the key and what was expected. Everything past this module takes the
 * typed `Config`.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG as D } from './defaults.js';
import { RestoreWatcherError } from './errors.js';
import { SEVERITIES } from './model.js';
import { closest } from './text.js';
import { nonEmpty, numberIn, z } from './validation.js';

const regexSource = z.string().check(
  z.refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'expected a valid regular expression' },
  ),
);

const requestMatcher = z
  .strictObject({
    method: z._default(nonEmpty(), 'POST'),
    /** A literal path; a `:name` segment matches any one segment (`/v2/restores/:id`). */
    path: z.optional(z.string().check(z.startsWith('/'))),
    /** A regular expression the whole path must match (it is anchored at both ends). */
    pattern: z.optional(regexSource),
  })
  .check(z.refine((m) => (m.path === undefined) !== (m.pattern === undefined), { message: 'give exactly one of path and pattern' }));

const requestRule = z.union([requestMatcher, z.array(requestMatcher).check(z.minLength(1))]);

const statusRule = z.string().check(z.regex(/^[1-5](?:\d\d|xx)$/, { message: 'expected a status code such as "404" or a class such as "5xx"' }));

const phaseRule = z.strictObject({
  name: z.string().check(z.minLength(1), z.regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'expected a short name such as "wal-replay"' })),
  pattern: regexSource,
  kind: z.optional(z.enum(['restore', 'backup'])),
});

const timezone = z.string().check(
  z.refine(
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
  ),
);

/** The tracker's rules as data: which lines start, advance and end an operation (docs/rules.md). */
export const rulesSchema = z.strictObject({
  restoreRequest: z._default(requestRule, () => structuredClone(D.track.rules.restoreRequest)),
  backupRequest: z._default(requestRule, () => structuredClone(D.track.rules.backupRequest)),
  progressRequests: z._default(z.array(requestMatcher), () => structuredClone(D.track.rules.progressRequests)),
  /** Poll answers that are not progress but trouble: "404", "5xx". */
  pollFailureStatuses: z._default(z.array(statusRule), () => [...D.track.rules.pollFailureStatuses]),
  /** Logger messages (regular expressions, case-insensitive) that end an operation successfully. */
  successMessages: z._default(z.array(regexSource), () => [...D.track.rules.successMessages]),
  /** Logger messages that fail an operation, whatever their severity (after the grace, as severities). */
  failureMessages: z._default(z.array(regexSource), () => [...D.track.rules.failureMessages]),
  /** Logger severities that fail an operation, unless it logs a success within the grace. */
  failureSeverities: z._default(z.array(z.enum(SEVERITIES)), () => [...D.track.rules.failureSeverities]),
  /** Seconds on the log's clock an error (or failing polls) waits for a success before the verdict. */
  failureGraceSeconds: z._default(numberIn({ min: 0, max: 3600 }), D.track.rules.failureGraceSeconds),
  /** Named phases, entered when a message matches. */
  phases: z._default(z.array(phaseRule), () => structuredClone(D.track.rules.phases)),
  /** How a backup is named in messages; group 1, if any, is its creation time in epoch ms. */
  backupIdPattern: z._default(regexSource, D.track.rules.backupIdPattern),
  /** A logger line from a new process id during an operation means the backup-agent restarted. */
  restartOnNewPid: z._default(z.boolean(), D.track.rules.restartOnNewPid),
});
export type Rules = z.infer<typeof rulesSchema>;

export const configSchema = z.strictObject({
  log: z.prefault(
    z.strictObject({
      path: z._default(nonEmpty(), D.log.path),
      /** The zone the Ruby Logger writes its timestamps in (they carry none); `auto`: the access lines' offset. */
      timezone: z._default(timezone, D.log.timezone),
      /** Longer lines are cut to this many bytes, flagged and counted. */
      maxLineBytes: z._default(numberIn({ int: true, min: 256, max: 16 * 1024 * 1024 }), D.log.maxLineBytes),
      /** Fallback poll interval for when fs.watch misses a change. */
      pollIntervalMs: z._default(numberIn({ int: true, min: 10, max: 60_000 }), D.log.pollIntervalMs),
      /** How long a renamed log is kept open after rotation, since the writer may still append. */
      rotationGraceMs: z._default(numberIn({ int: true, min: 0, max: 600_000 }), D.log.rotationGraceMs),
    }),
    {},
  ),
  track: z.prefault(
    z.strictObject({
      /** Silence (on the log's own clock) after which an active operation is reported stalled. */
      stallAfterSeconds: z._default(numberIn({ positive: true }), D.track.stallAfterSeconds),
      rules: z.prefault(rulesSchema, {}),
    }),
    {},
  ),
  http: z.prefault(
    z.strictObject({
      host: z._default(nonEmpty(), D.http.host),
      port: z._default(numberIn({ int: true, min: 0, max: 65535 }), D.http.port),
      maxStreamClients: z._default(numberIn({ int: true, min: 1, max: 10_000 }), D.http.maxStreamClients),
      /** Open connections at most; lowered to keep file descriptors free below `ulimit -n`. */
      maxConnections: z._default(numberIn({ int: true, min: 8, max: 65_536 }), D.http.maxConnections),
      heartbeatSeconds: z._default(numberIn({ positive: true, max: 3600 }), D.http.heartbeatSeconds),
      /** A stream client whose unsent bytes pass this is dropped. */
      maxStreamBufferBytes: z._default(numberIn({ int: true, min: 1024 }), D.http.maxStreamBufferBytes),
      tls: z._default(z.nullable(z.strictObject({ certFile: nonEmpty(), keyFile: nonEmpty() })), null),
    }),
    {},
  ),
  auth: z.prefault(
    z.strictObject({
      username: z._default(nonEmpty(), D.auth.username),
      /** Also read from RESTORE_WATCHER_PASSWORD. */
      password: z._default(z.nullable(nonEmpty().check(z.refine((v) => v.trim() !== '', 'must not be only whitespace'))), null),
    }),
    {},
  ),
  stateDir: z._default(nonEmpty(), D.stateDir),
  journal: z.prefault(
    z.strictObject({
      /** The journal keeps at most this many events; the oldest are dropped and counted. */
      maxEvents: z._default(numberIn({ int: true, min: 100, max: 10_000_000 }), D.journal.maxEvents),
      /** How often the read position and tracker state are checkpointed (when they changed). */
      checkpointIntervalMs: z._default(numberIn({ int: true, min: 50, max: 60_000 }), D.journal.checkpointIntervalMs),
    }),
    {},
  ),
  probe: z.prefault(
    z.strictObject({
      /** A PostgreSQL readiness command as an argument array, e.g. ["pg_isready", "-h", "127.0.0.1"]; null: off. */
      command: z._default(z.nullable(z.array(nonEmpty()).check(z.minLength(1))), null),
      intervalSeconds: z._default(numberIn({ positive: true }), D.probe.intervalSeconds),
      timeoutSeconds: z._default(numberIn({ positive: true }), D.probe.timeoutSeconds),
    }),
    {},
  ),
  hooks: z.prefault(
    z.strictObject({
      /** Commands (argument arrays, no shell) run when a restore or backup ends, the event as JSON on stdin. */
      commands: z._default(z.array(z.array(nonEmpty()).check(z.minLength(1))), () => []),
      /** Also run them when a restore or backup is reported stalled. */
      onStall: z._default(z.boolean(), D.hooks.onStall),
      /** A run still going after this is killed and counts as failed. */
      timeoutSeconds: z._default(numberIn({ positive: true, max: 3600 }), D.hooks.timeoutSeconds),
      /** Attempts per event and command, the first included. */
      maxAttempts: z._default(numberIn({ int: true, min: 1, max: 20 }), D.hooks.maxAttempts),
      /** Wait before the second attempt; doubled for each further one. */
      retryDelaySeconds: z._default(numberIn({ min: 0, max: 3600 }), D.hooks.retryDelaySeconds),
    }),
    {},
  ),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Every problem in `input`, one line each, naming the key and what was expected. */
export function configProblems(error: z.core.$ZodError): string[] {
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

/** What keysAt reads of a schema's definition. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
}

/** The keys the object schema at `path` inside `schema` allows (none when it is not an object). */
function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const def = (s: z.core.$ZodType): SchemaDef => s._zod.def as SchemaDef;
  let at: z.core.$ZodType | undefined = schema;
  for (let i = 0; ; i++) {
    // Past defaults, prefaults and nullables to the schema they wrap.
    while (at !== undefined && def(at).type !== 'object' && def(at).type !== 'array' && def(at).innerType !== undefined) {
      at = def(at).innerType;
    }
    if (i === path.length || at === undefined) break;
    const d = def(at);
    at = d.type === 'object' ? d.shape![String(path[i])] : d.type === 'array' ? d.element : undefined;
  }
  return at !== undefined && def(at).type === 'object' ? Object.keys(def(at).shape!) : [];
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
