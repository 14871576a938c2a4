/**
 * What every command shares on the command line: the `Command` shape, flag
 * parsing whose errors name the flag (exit 64), strict numbers for ports and
 * seconds, where the password comes from, and a closed output pipe. Commands
 * import this; nothing here imports a command.
 */
import type { ParseArgsConfig } from 'node:util';
import { RestoreWatcherError } from '../errors.js';
import { closest } from '../text.js';

// Not imported: node:util's ESM facade reads every export, loading modules (MIMEType, AbortController) no command uses.
const { parseArgs } = process.getBuiltinModule('node:util');

/** One subcommand: its help (shown by `--help`) and what it does. */
export interface Command {
  /** One line for the top-level usage. */
  summary: string;
  /** The synopsis line(s) shown in the top-level usage. */
  synopsis: string;
  /** The full text of `COMMAND --help`, examples included. */
  help: string;
  /** Runs the command with its arguments (after the command name); resolves to the exit status. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>
>;

/**
 * parseArgs with the catalogue's usage error: the flag is named, a near miss is
 * suggested, and Node's own wording (which names parseArgs internals) never shows.
 */
export function parseFlags<T extends Options>(args: string[], options: T, allowPositionals: boolean): Parsed<T> {
  try {
    return parseArgs({ args: negativeValuesJoined(args, options), options, allowPositionals, strict: true });
  } catch (err) {
    throw new RestoreWatcherError('RW_USAGE', flagProblem(err as NodeJS.ErrnoException, args, options));
  }
}

/**
 * `--timeout -5` is read by parseArgs as a flag without its value; joined as
 * `--timeout=-5` the value reaches the flag's own check, which says what it wants.
 */
function negativeValuesJoined(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function flagProblem(err: NodeJS.ErrnoException, args: string[], options: Options): string {
  const names = Object.keys(options);
  const raw = err.message.split('\n')[0]!;
  const flag = /'(-{1,2}[^' ]+)/.exec(raw)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = (flag ?? '').replace(/^-+/, '').split('=')[0]!;
      const near = closest(name, names);
      return `unknown flag ${flag ?? raw}${near !== null ? ` (did you mean --${near}?)` : ''}; see --help`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (flag !== undefined && /argument missing/.test(raw)) return `${flag} needs a value; see --help`;
      if (flag !== undefined && /does not take an argument/.test(raw)) return `${flag} takes no value; see --help`;
      // A value that starts with "-" (e.g. `--timeout -5`) is read as a flag by parseArgs.
      const at = args.findIndex((a) => flag !== undefined && a.startsWith(flag));
      const value = at >= 0 ? args[at + 1] : undefined;
      if (flag !== undefined && value !== undefined) return `${flag}: "${value}" is not a valid value; see --help`;
      return `${flag ?? 'a flag'}: invalid value; see --help`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(raw)?.[1] ?? ''}; this command takes flags only (see --help)`.replace('  ', ' ');
    default:
      return raw;
  }
}

/** A TCP port given on the command line: digits only, 0–65535. */
export function parsePort(flag: string, value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new RestoreWatcherError('RW_USAGE', `${flag}: expected a port number 0–65535, got "${value}"`);
  return n;
}

/** A positive number of seconds given on the command line, in plain decimal (no hex, no exponent). */
export function parseSeconds(flag: string, value: string): number {
  const n = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0)) throw new RestoreWatcherError('RW_USAGE', `${flag}: expected a number of seconds > 0, got "${value}"`);
  return n;
}

/**
 * The HTTP password from the environment: RESTORE_WATCHER_PASSWORD, or null when
 * unset or empty. Only whitespace is refused: it would pass for a password.
 */
export function passwordFromEnv(env: NodeJS.ProcessEnv): string | null {
  const value = env.RESTORE_WATCHER_PASSWORD;
  if (value === undefined || value === '') return null;
  if (value.trim() === '') {
    throw new RestoreWatcherError('RW_CONFIG_INVALID', 'RESTORE_WATCHER_PASSWORD is only whitespace: set a real password or unset it');
  }
  return value;
}

/**
 * `restore-watcher … | head` closes the pipe early: that is the reader's choice,
 * not an error. Calls `onClosed` (default: exit 0) instead of throwing.
 */
export function onBrokenPipe(stream: NodeJS.WritableStream, onClosed: () => void = () => process.exit(0)): () => void {
  const listener = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') onClosed();
    else throw err;
  };
  stream.on('error', listener);
  return () => stream.off('error', listener);
}

/** Prints `help` and returns 0 when `--help` was given; otherwise null. */
export function helpShown(values: { help?: boolean | undefined }, help: string): number | null {
  if (values.help !== true) return null;
  process.stdout.write(help);
  return 0;
}

/** The `--help`/`-h` flag every command has. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h', default: false } } as const;
