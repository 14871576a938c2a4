/**
 * JSON answers that list events, streamed a page at a time: the stream reads the
 * next page from the journal only when the socket has taken the previous ones
 * (Readable's `read()` is called as the consumer drains), so a history of a
 * hundred thousand events costs a page per request, not the whole answer as one
 * string.
 */
import { Readable } from 'node:stream';
import type { Journal, PageQuery } from '../journal/journal.js';

/** Bytes of events read from the journal at once for one answer. */
export const ANSWER_PAGE_BYTES = 64 * 1024;

/** `head`, then the events after `after` matching `query` as a JSON array's items, then `tail`. */
export function pagedEvents(
  journal: Journal,
  parts: { head: string; tail: string },
  after: number,
  query: Omit<PageQuery, 'maxBytes'>,
  pageBytes = ANSWER_PAGE_BYTES,
): Readable {
  let cursor = after;
  let left = query.limit ?? Number.POSITIVE_INFINITY;
  let started = false;
  let items = 0;
  // What the journal holds now: events filed while the answer is sent are not part of it.
  const until = Math.min(query.until ?? Number.POSITIVE_INFINITY, journal.lastId);
  return new Readable({
    highWaterMark: pageBytes,
    read() {
      if (!started) {
        started = true;
        this.push(parts.head);
      }
      while (left > 0 && cursor < until) {
        const page = journal.page(cursor, { ...query, limit: left, until, maxBytes: pageBytes });
        cursor = page.done ? until : page.next;
        left -= page.ids.length;
        if (page.json.length === 0) continue;
        this.push(`${items > 0 ? ',' : ''}${page.json.join(',')}`);
        items += page.json.length;
        // The next page when the consumer asks for more.
        if (left > 0 && cursor < until) return;
      }
      this.push(parts.tail);
      this.push(null);
    },
  });
}
