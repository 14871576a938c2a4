/**
 * The caps on what one event holds, applied on the way into the journal: a huge
 * logger message is kept once, in `message`, and only a head of it in the source
 * line and the operation summary, so an event's size is bounded wherever it is
 * kept or sent.
 */
import type { WatchEvent } from '../model.js';

/** Caps, in characters, of what an event holds: a huge message is stored once, in `message`. */
export const EVENT_CAPS = { message: 8192, line: 512, lastMessage: 512, failure: 2048 } as const;

/** The event with its message, source line and operation summary cut to EVENT_CAPS. */
export function fitEvent(e: WatchEvent): WatchEvent {
  const op = e.operation;
  if (
    e.message.length <= EVENT_CAPS.message &&
    e.line.length <= EVENT_CAPS.line &&
    (op.lastMessage?.length ?? 0) <= EVENT_CAPS.lastMessage &&
    (op.failure?.length ?? 0) <= EVENT_CAPS.failure
  ) {
    return e;
  }
  return {
    ...e,
    line: cap(e.line, EVENT_CAPS.line),
    message: cap(e.message, EVENT_CAPS.message),
    operation: {
      ...op,
      lastMessage: op.lastMessage === null ? null : cap(op.lastMessage, EVENT_CAPS.lastMessage),
      failure: op.failure === null ? null : cap(op.failure, EVENT_CAPS.failure),
    },
  };
}

function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not leave half a surrogate pair before the ellipsis.
  const end = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}
