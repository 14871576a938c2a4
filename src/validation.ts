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
 * Each schema here parses once or twice in a process (the config, a checkpoint):
 * compiling an object schema into a function on its first parse (zod's default)
 * costs more than it saves then (about 1.5 ms of the config's 3 ms parse).
 */
import * as z from 'zod/mini';

z.config(z.locales.en());
z.config({ jitless: true });

export { z };
