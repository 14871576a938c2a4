/**
 * Where `replay` reads its bytes from: a file, a gzip-compressed file (BOSH's
 * logrotate compresses rotated logs: `production.log.1.gz`), or stdin (`-`),
 * compressed or not. Compression is told by content, the gzip magic bytes, not
 * by name. A plain file is read with positional reads into the caller's buffer;
 * anything else is a stream whose chunks are copied into it.
 */
import { fileError, RestoreWatcherError } from '../errors.js';

// node:fs is taken with getBuiltinModule, not imported: an ESM import of a builtin builds
// its facade by reading every export, and node:fs's ReadStream getter loads the whole
// stream library, which reading a plain file never needs (it was a tenth of replay's
// start-up). Streams, gzip and stdin load only for the inputs that use them.
const { closeSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/** A source of bytes read into the caller's buffer; `read` resolves to 0 at the end. */
export interface ByteSource {
  read(buffer: Buffer): Promise<number>;
  /** The same, synchronously: plain files only (a stream has no such read). */
  readSync?(buffer: Buffer): number;
  close(): Promise<void>;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Opens `path` (`-`: stdin, or `stdin` when given) for reading, gunzipping it when it is gzip-compressed. */
export async function openByteSource(path: string, stdin?: NodeJS.ReadableStream): Promise<ByteSource> {
  if (path === '-') return chunkSource('stdin', (stdin ?? process.stdin) as AsyncIterable<Buffer>, async () => undefined);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const magic = Buffer.alloc(2);
    const bytesRead = readSync(fd, magic, 0, 2, 0);
    if (bytesRead === 2 && magic.equals(GZIP_MAGIC)) {
      const compressed = fd;
      const { createReadStream } = await import('node:fs');
      return chunkSource(path, createReadStream(path, { fd: compressed, autoClose: false, start: 0 }), async () => closeSync(compressed));
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw fileError(path, err);
  }
  const plain = fd;
  const readPlain = (buffer: Buffer): number => {
    try {
      return readSync(plain, buffer, 0, buffer.length, null);
    } catch (err) {
      throw fileError(path, err);
    }
  };
  return {
    read: async (buffer) => readPlain(buffer),
    readSync: readPlain,
    close: async () => closeSync(plain),
  };
}

/** Chunks as a ByteSource, gunzipped first when they start with the gzip magic bytes. */
function chunkSource(name: string, input: AsyncIterable<Buffer | string>, onClose: () => Promise<void>): ByteSource {
  const chunks = decompressed(name, input)[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  return {
    async read(buffer) {
      while (pending.length === 0) {
        const next = await chunks.next();
        if (next.done === true) return 0;
        pending = next.value;
      }
      const n = pending.copy(buffer, 0, 0, Math.min(pending.length, buffer.length));
      pending = pending.subarray(n);
      return n;
    },
    async close() {
      await chunks.return?.(undefined);
      await onClose();
    },
  };
}

async function* decompressed(name: string, input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const source = input[Symbol.asyncIterator]();
  // Enough bytes to tell: a first chunk may be a single byte (a pipe gives what it has).
  let head = Buffer.alloc(0);
  let done = false;
  try {
    while (head.length < GZIP_MAGIC.length && !done) {
      const next = await source.next();
      if (next.done === true) done = true;
      else head = Buffer.concat([head, Buffer.from(next.value)]);
    }
  } catch (err) {
    throw fileError(name, err);
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await source.next();
      if (next.done === true) return;
      yield Buffer.from(next.value);
    }
  };
  if (!head.subarray(0, 2).equals(GZIP_MAGIC)) {
    yield* rest();
    return;
  }
  const [{ Readable }, { createGunzip }] = await Promise.all([import('node:stream'), import('node:zlib')]);
  const gunzip = Readable.from(rest()).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw new RestoreWatcherError('RW_FILE_UNREADABLE', `${name}: gzip-compressed, but cannot be uncompressed (${(err as Error).message})`, {
      cause: err,
    });
  } finally {
    gunzip.destroy();
  }
}
