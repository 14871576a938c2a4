/**
 * The TLS certificate and key, read once at start. An unreadable file is an
 * operator error with its path named, never a stack trace.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import { RestoreWatcherError } from '../errors.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export async function loadTls(tls: Config['http']['tls']): Promise<TlsFiles | null> {
  if (tls === null) return null;
  const read = async (what: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reasons: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' };
      const why = reasons[code ?? ''] ?? code ?? 'cannot read';
      throw new RestoreWatcherError('RW_TLS_UNREADABLE', `TLS ${what} ${path}: ${why}`, { cause: err });
    }
  };
  return { cert: await read('certificate', tls.certFile), key: await read('key', tls.keyFile) };
}
