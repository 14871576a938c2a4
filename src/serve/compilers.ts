/**
 * Owns when the routes' JSON schemas are compiled: on a route's first request,
 * not when the server starts. Fastify's own compilers do the work (ajv checks
 * queries, fast-json-stringify writes answers), with the options it gives them,
 * so answers and their 400 messages are theirs; only the moment changes. Loading
 * ajv and compiling every schema is tens of milliseconds of a start-up that has
 * no use for them, while most routes are never asked for on most VMs.
 *
 * Hand-written, a few lines, because fastify has no option for it: it compiles
 * at ready, and the libraries that replace its compilers (type providers) change
 * what validation errors say.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Factory = (externalSchemas: unknown, options: unknown) => (route: unknown) => Compiled;
/** A compiled schema: ajv's validator (with its `errors` and `schemaEnv`) or a serializer. */
type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown; schemaEnv?: unknown };

// fastify's own compilers, required from fastify (whose dependencies they are), when first needed.
// (import.meta.url, not import.meta.resolve: the CommonJS bundle keeps only the former.)
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** Fastify's default compilers, each loaded and run on its route's first use. */
export function compilersOnFirstUse(): CompilersFactory {
  return {
    buildValidator: onFirstUse('@fastify/ajv-compiler') as unknown as CompilersFactory['buildValidator'],
    buildSerializer: onFirstUse('@fastify/fast-json-stringify-compiler') as unknown as CompilersFactory['buildSerializer'],
  };
}

function onFirstUse(selector: string): Factory {
  /** As fastify does, one selector for all its contexts: it keeps a compiler per set of schemas and options. */
  let factory: Factory | null = null;
  return (externalSchemas, options) => {
    let compiler: ReturnType<Factory> | null = null;
    return (route) => {
      let compiled: Compiled | null = null;
      const compile = (): Compiled => {
        factory ??= (fromFastify(selector) as () => Factory)();
        compiler ??= factory(externalSchemas, options);
        return (compiled ??= compiler(route));
      };
      const run: Compiled = (...args) => {
        const fn = compile();
        const result = fn(...args);
        run.errors = fn.errors;
        return result;
      };
      // Fastify reads this before each call to decide whether to give ajv the request as the value's parent.
      Object.defineProperty(run, 'schemaEnv', { get: () => compile().schemaEnv });
      return run;
    };
  };
}
