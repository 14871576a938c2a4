// Module resolution hooks that write every resolved URL to $IMPORT_TRACE_FILE:
// how a test learns which modules a command really loads.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.IMPORT_TRACE_FILE, `${result.url}\n`);
  return result;
}
