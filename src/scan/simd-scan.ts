/**
 * The idle scan's one pass over a chunk, as a WebAssembly function using 128-bit
 * SIMD: it counts newlines, checks each line's first byte against a table, and
 * finds the next occurrence of any needle, 32 bytes (two vectors) at a step.
 *
 * Why hand-written WebAssembly: in JavaScript each of those is a pass of its own
 * (Buffer.indexOf per line to count lines, one indexOf pass per needle), and on a
 * production.log every byte of a start needle is common (`"POST /v1/restore` shares
 * all but a few bytes with the order polls on half the lines), so each needle's pass
 * stopped a million times on its first byte: 15 ms for the line count and 10-12 ms
 * per needle over 100 MB, against about 20 ms here for all of them. The module is
 * generated for the needles at hand (their bytes are constants in the code), so it
 * is built here from named instructions rather than shipped as a binary.
 *
 * A needle is found as in Muła's "SIMD-friendly algorithms for substring searching":
 * two of its bytes, at offsets o1 and o2, are compared with the bytes 16 positions
 * at a time (vectors loaded at p + o1 and p + o2), and only where both match is the
 * whole needle compared, byte by byte. The two bytes are chosen on a sample of the
 * log (`choosePair`), so that both rarely match together.
 *
 * One call scans from `from` and stops at the first of: a needle's start (the needle
 * lying wholly before `to`), or a line start after a newline whose first byte's table entry has a bit of `mask`
 * (entry DIGIT only when the line's fifth byte is `-`: Sinatra's exception report);
 * or at `to`. It writes the newlines it passed and what it stopped at (a needle's
 * index, or -1 for a line start) to OUT.
 */

// Node's global WebAssembly, which the TypeScript libraries this project compiles with (no DOM) do not declare.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
};

/** Table entry bits (what a line's first byte may start), as needles.ts sets them. */
export const BANNER = 1;
export const DIGIT = 2;
/** The `which` of a stop at a line start. */
export const LINE_START = -1;

/** Memory: the first-byte table, the result, then the copied bytes. */
const TABLE = 0;
const OUT = 256;
const DATA = 1024;
const PAGE = 64 * 1024;
/** Bytes a step looks at: two vectors (one a step ran 7 % more instructions scanning a 1,000,000-line log, reads included). */
const STEP = 32;

// A few WebAssembly opcodes (the binary format of the WebAssembly core specification, with its SIMD proposal).
const I32 = 0x7f;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  return: [0x0f],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  load8: (offset: number) => [0x2d, 0, ...uleb(offset)],
  store32: (offset: number) => [0x36, 2, ...uleb(offset)],
  const: (n: number) => [0x41, ...sleb(n)],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltU: [0x49],
  gtU: [0x4b],
  geU: [0x4f],
  ctz: [0x68],
  add: [0x6a],
  sub: [0x6b],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  shrU: [0x76],
  v128load: (offset: number) => [0xfd, 0x00, 0, ...uleb(offset)],
  i8x16splat: [0xfd, 0x0f],
  i8x16eq: [0xfd, 0x23],
  v128and: [0xfd, 0x4e],
  v128or: [0xfd, 0x50],
  i8x16bitmask: [0xfd, 0x64],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...Buffer.from(s)].map((b) => [b]));

/** A needle and the two of its bytes that are compared first. */
export interface PairedNeedle {
  bytes: Buffer;
  o1: number;
  o2: number;
}

/**
 * The offsets of the two bytes of `needle` that least often match together in
 * `sample`: its rarest byte by `count`, and the offset that then matches least
 * (on a tie, the rarer byte).
 */
export function choosePair(needle: Buffer, sample: Buffer, count: Uint32Array): PairedNeedle {
  let o1 = 0;
  for (let i = 1; i < needle.length; i++) if (count[needle[i]!]! < count[needle[o1]!]!) o1 = i;
  const starts: number[] = [];
  for (let h = sample.indexOf(needle[o1]!); h !== -1; h = sample.indexOf(needle[o1]!, h + 1)) starts.push(h - o1);
  let o2 = o1;
  let best = Infinity;
  for (let j = 0; j < needle.length; j++) {
    if (j === o1 && needle.length > 1) continue;
    let both = 0;
    for (const s of starts) if (sample[s + j] === needle[j]) both++;
    const cost = both * 256 * 1024 + count[needle[j]!]!;
    if (cost < best) {
      best = cost;
      o2 = j;
    }
  }
  return { bytes: needle, o1, o2 };
}

/** The scan function's body: params from, to, mask; returns where it stopped. */
function scanBody(needles: readonly PairedNeedle[]): number[] {
  const [FROM, TO, MASK, P, LINES, BITS, LF, CAND, S, I, KIND] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part);
  };
  const stop = (which: number[], at: number[]): void => emit(op.const(OUT), op.get(LINES), op.store32(0), op.const(OUT), which, op.store32(4), at, op.return);

  emit(op.get(FROM), op.set(P), op.const(0), op.set(LINES));
  emit(op.block, op.loop); // one step of STEP bytes at p, two vectors
  emit(op.get(P), op.get(TO), op.geU, op.brIf(1));
  // LF: the positions of newlines; CAND: where both compared bytes of some needle match.
  for (let half = 0; half < STEP; half += 16) {
    const merge = (into: number): void => emit(...(half === 0 ? [] : [op.const(half), op.shl, op.get(into), op.or]), op.set(into));
    emit(op.get(P), op.v128load(half), op.const(0x0a), op.i8x16splat, op.i8x16eq, op.i8x16bitmask);
    merge(LF);
    if (needles.length === 0) emit(op.const(0));
    needles.forEach((n, k) => {
      emit(op.get(P), op.v128load(half + n.o1), op.const(n.bytes[n.o1]!), op.i8x16splat, op.i8x16eq);
      emit(op.get(P), op.v128load(half + n.o2), op.const(n.bytes[n.o2]!), op.i8x16splat, op.i8x16eq, op.v128and);
      if (k > 0) emit(op.v128or);
    });
    if (needles.length > 0) emit(op.i8x16bitmask);
    merge(CAND);
  }
  emit(op.get(CAND), op.get(LF), op.or, op.set(BITS));
  // Each marked position in order, lowest first.
  emit(op.block, op.loop);
  emit(op.get(BITS), op.eqz, op.brIf(1));
  emit(op.get(BITS), op.ctz, op.tee(I), op.get(P), op.add, op.tee(S), op.get(TO), op.geU, op.brIf(3));
  emit(op.get(CAND), op.get(I), op.shrU, op.const(1), op.and, op.if);
  needles.forEach((n, k) => {
    emit(op.block);
    emit(op.get(S), op.const(n.bytes.length), op.add, op.get(TO), op.gtU, op.brIf(0));
    for (let j = 0; j < n.bytes.length; j++) emit(op.get(S), op.load8(j), op.const(n.bytes[j]!), op.ne, op.brIf(0));
    stop(op.const(k), op.get(S));
    emit(op.end);
  });
  emit(op.end);
  emit(op.get(LF), op.get(I), op.shrU, op.const(1), op.and, op.if);
  emit(op.get(LINES), op.const(1), op.add, op.set(LINES));
  // The next line's start, S + 1, before `to`: its first byte's table entry.
  emit(op.get(S), op.const(1), op.add, op.tee(S), op.get(TO), op.ltU, op.if);
  emit(op.get(S), op.load8(0), op.load8(TABLE), op.get(MASK), op.and, op.tee(KIND), op.if);
  emit(op.get(KIND), op.const(BANNER), op.and, op.get(S), op.load8(4), op.const(0x2d), op.eq, op.or, op.if);
  stop(op.const(LINE_START), op.get(S));
  emit(op.end, op.end, op.end, op.end);
  emit(op.get(BITS), op.get(BITS), op.const(1), op.sub, op.and, op.set(BITS), op.br(0));
  emit(op.end, op.end);
  emit(op.get(P), op.const(STEP), op.add, op.set(P), op.br(0));
  emit(op.end, op.end);
  stop(op.const(LINE_START), op.get(TO));
  // The locals after the three parameters, P to KIND.
  return [...vec([[...uleb(KIND - MASK), I32]]), ...code, ...op.end];
}

/** The module: one page of memory at first (`copy` grows it), the scan function. */
function moduleBytes(needles: readonly PairedNeedle[]): Uint8Array {
  const body = scanBody(needles);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('scan'), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

/** Where a scan stopped: at `at` (`to` when nothing was found), after `lines` newlines; `which` needle, or LINE_START. */
export interface SimdStop {
  at: number;
  lines: number;
  which: number;
}

/** The scan over copies of a caller's chunks, positions given in the chunk's own terms. */
export class SimdScan {
  private readonly memory: WasmMemory;
  private bytes: Uint8Array;
  private out: Int32Array;
  private readonly scanFn: (from: number, to: number, mask: number) => number;
  /** Bytes past a copy that the scan may read: the longest needle (or the DIGIT check) plus a step. */
  private readonly pad: number;
  private copied: Buffer | null = null;
  private copiedFrom = 0;
  readonly stop: SimdStop = { at: 0, lines: 0, which: LINE_START };

  private constructor(instance: WasmInstance, pad: number) {
    this.memory = instance.exports['memory'] as WasmMemory;
    this.scanFn = instance.exports['scan'] as (from: number, to: number, mask: number) => number;
    this.pad = pad;
    this.bytes = new Uint8Array(this.memory.buffer);
    this.out = new Int32Array(this.memory.buffer, OUT, 2);
  }

  /** The scan for `needles` with line-first-byte `table`, or null where WebAssembly with SIMD is not available. */
  static create(needles: readonly PairedNeedle[], table: Uint8Array): SimdScan | null {
    if (typeof WebAssembly !== 'object') return null;
    const pad = Math.max(8, ...needles.map((n) => n.bytes.length)) + STEP;
    let instance: WasmInstance;
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(needles)), {});
    } catch {
      return null;
    }
    const scan = new SimdScan(instance, pad);
    scan.bytes.set(table.subarray(0, 256), TABLE);
    return scan;
  }

  /**
   * Scans buf[from, to) (`from` after a line's start: a newline just before it is not
   * seen) for the first stop with table bits `mask`; bytes of buf from `to` on are
   * read too, as the table's DIGIT check does. Sets and returns `stop`.
   */
  scan(buf: Buffer, from: number, to: number, mask: number): SimdStop {
    // A chunk is copied once, to its end: the scans of one chunk go on from where the last stopped.
    if (buf !== this.copied || from < this.copiedFrom) this.copy(buf, from);
    const shift = DATA - this.copiedFrom;
    const at = this.scanFn(from + shift, to + shift, mask);
    this.stop.at = at - shift;
    this.stop.lines = this.out[0]!;
    this.stop.which = this.out[1]!;
    return this.stop;
  }

  /** Copies buf[from, buf.length) into memory, past the end zeros (a byte past buf reads as none). */
  private copy(buf: Buffer, from: number): void {
    const end = buf.length;
    const need = DATA + (end - from) + this.pad;
    if (need > this.bytes.length) {
      this.memory.grow(Math.ceil((need - this.bytes.length) / PAGE));
      this.bytes = new Uint8Array(this.memory.buffer);
      this.out = new Int32Array(this.memory.buffer, OUT, 2);
    }
    this.bytes.set(buf.subarray(from, end), DATA);
    this.bytes.fill(0, DATA + (end - from), DATA + (end - from) + this.pad);
    this.copied = buf;
    this.copiedFrom = from;
  }
}
