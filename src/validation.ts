/**
 * Owns zod as the edges use it (the config, the checkpoint file): its mini build,
 * with English messages and without compiling schemas to functions.
 *
 * The mini build has the same parser, checks, issues and messages as zod's classic
 * API, but its schemas are plain values composed by functions (`z.optional(s)`, not
 * `s.optional()`), where each classic schema gets the API's methods copied onto it as
 * it is made. The agent loads zod, makes its config schema and parses the config on
 * every start, before it reads the log: that took 48.3 ms of CPU with the classic
 * API, 43.6 ms with this one (medians of 15 runs each, in turns, Node 20, the job's
 * node flags), and its parse alone 1.4 ms against 0.9 ms.
 *
 * Each schema made with it parses once or twice in a process (the config, a checkpoint):
 * compiling an object schema into a function on its first parse (zod's default)
 * costs more than it saves then (about 1.5 ms of the config's 3 ms parse).
 */
import * as z from 'zod/mini';

z.config(z.locales.en());
z.config({ jitless: true });

export { z };

/** A string of at least one character. */
export const nonEmpty = (): z.ZodMiniString<string> => z.string().check(z.minLength(1));

/** A number within [min, max] (either may be absent), an integer if `int`, above 0 if `positive`. */
export const numberIn = (o: { int?: boolean; min?: number; max?: number; positive?: boolean }): z.ZodMiniNumber<number> => {
  const checks: z.core.$ZodCheck<number>[] = [];
  if (o.int === true) checks.push(z.int());
  if (o.positive === true) checks.push(z.positive());
  if (o.min !== undefined) checks.push(z.minimum(o.min));
  if (o.max !== undefined) checks.push(z.maximum(o.max));
  return z.number().check(...checks);
};
