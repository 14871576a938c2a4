/**
 * Cuts a Server-Sent Events stream into frames, as the WHATWG "event stream
 * interpretation" says, and nothing else: text in, frames and the remaining state
 * out. Lines end in CRLF, LF or a lone CR (a CR at the end of one chunk and an LF at
 * the start of the next are one line end); a line starting with `:` is a comment;
 * `data:` lines of one event are joined by `\n`; a blank line dispatches the event.
 * An event with no data is not dispatched, but its `id:` still counts: the last
 * event id is what a client sends back as `Last-Event-ID`, and it survives across
 * events (and reconnections, if the caller keeps the state).
 *
 * The caller decodes bytes to text (a streaming decoder keeps a UTF-8 character
 * split across chunks whole).
 */

/** What the parser remembers between chunks. Plain data; never mutated. */
export interface SseState {
  /** Text of an unfinished line. */
  pending: string;
  /** The previous chunk ended in CR: an LF at the start of the next one belongs to it. */
  afterCr: boolean;
  /** `data:` lines of the event being read, or null when it has none yet. */
  data: string[] | null;
  /** `event:` of the event being read; '' means the default, `message`. */
  event: string;
  /** The last event id seen (`id:` field), '' before any. */
  lastEventId: string;
  /** No byte read yet (a leading byte-order mark is skipped). */
  atStart: boolean;
}

export type SseFrame =
  | { kind: 'event'; event: string; data: string; id: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };

export function initialSseState(lastEventId = ''): SseState {
  return { pending: '', afterCr: false, data: null, event: '', lastEventId, atStart: true };
}

/** Feeds one chunk of decoded text; returns the frames it completes and the state for the next chunk. */
export function parseSse(state: SseState, chunk: string): { state: SseState; frames: SseFrame[] } {
  let text = chunk;
  let { afterCr, atStart } = state;
  if (atStart && text.length > 0) {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    atStart = false;
  }
  if (afterCr && text.startsWith('\n')) text = text.slice(1);
  if (chunk.length > 0) afterCr = false;

  const frames: SseFrame[] = [];
  let block: Pick<SseState, 'data' | 'event' | 'lastEventId'> = state;
  let pending = state.pending;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && c !== 0x0d) continue;
    const line = pending + text.slice(start, i);
    pending = '';
    if (c === 0x0d) {
      if (i + 1 < text.length) {
        if (text.charCodeAt(i + 1) === 0x0a) i++;
      } else {
        afterCr = true;
      }
    }
    start = i + 1;
    block = takeLine(block, line, frames);
  }
  pending += text.slice(start);
  return {
    state: { pending, afterCr, atStart, data: block.data, event: block.event, lastEventId: block.lastEventId },
    frames,
  };
}

type Block = Pick<SseState, 'data' | 'event' | 'lastEventId'>;

function takeLine(block: Block, line: string, frames: SseFrame[]): Block {
  if (line === '') {
    if (block.data !== null) {
      frames.push({ kind: 'event', event: block.event || 'message', data: block.data.join('\n'), id: block.lastEventId });
    }
    return { data: null, event: '', lastEventId: block.lastEventId };
  }
  if (line.startsWith(':')) {
    frames.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
    return block;
  }
  const colon = line.indexOf(':');
  const field = colon === -1 ? line : line.slice(0, colon);
  const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
  switch (field) {
    case 'data':
      return { ...block, data: [...(block.data ?? []), value] };
    case 'event':
      return { ...block, event: value };
    case 'id':
      // An id with a NUL is ignored, as the standard says.
      return value.includes('\0') ? block : { ...block, lastEventId: value };
    case 'retry':
      if (/^\d+$/.test(value)) frames.push({ kind: 'retry', ms: Number(value) });
      return block;
    default:
      return block;
  }
}
