import { describe, expect, it } from 'vitest';
import { initialSseState, parseSse, type SseFrame, type SseState } from '../../src/watch/sse-parser.js';

function feed(chunks: string[], state: SseState = initialSseState()): { frames: SseFrame[]; state: SseState } {
  const frames: SseFrame[] = [];
  for (const chunk of chunks) {
    const r = parseSse(state, chunk);
    state = r.state;
    frames.push(...r.frames);
  }
  return { frames, state };
}

const ev = (event: string, data: string, id = ''): SseFrame => ({ kind: 'event', event, data, id });

describe('parseSse', () => {
  const cases: Array<{ name: string; chunks: string[]; frames: SseFrame[]; lastEventId?: string }> = [
    { name: 'one event', chunks: ['id: 1\nevent: restore.requested\ndata: {"a":1}\n\n'], frames: [ev('restore.requested', '{"a":1}', '1')] },
    { name: 'default event type', chunks: ['data: x\n\n'], frames: [ev('message', 'x')] },
    {
      name: 'a frame split across chunks at every kind of place',
      chunks: ['i', 'd: 7\nev', 'ent: e\nda', 'ta: {"b"', ':2}\n', '\n'],
      frames: [ev('e', '{"b":2}', '7')],
    },
    { name: 'CRLF line ends', chunks: ['id: 2\r\nevent: e\r\ndata: y\r\n\r\n'], frames: [ev('e', 'y', '2')] },
    { name: 'CR then LF in the next chunk is one line end', chunks: ['data: y\r', '\n\r', '\n'], frames: [ev('message', 'y')] },
    { name: 'an LF alone in the chunk after a CR, then a blank line', chunks: ['data: y\r', '\n', '\n'], frames: [ev('message', 'y')] },
    { name: 'lone CR line ends', chunks: ['data: y\r\r'], frames: [ev('message', 'y')] },
    { name: 'multi-line data joined by newline', chunks: ['data: a\ndata: b\ndata:\n\n'], frames: [ev('message', 'a\nb\n')] },
    { name: 'only one leading space is taken off', chunks: ['data:  two\n\n'], frames: [ev('message', ' two')] },
    { name: 'a field without a colon', chunks: ['data\n\n'], frames: [ev('message', '')] },
    {
      name: 'comments (heartbeats) are frames of their own and do not end an event',
      chunks: [': heartbeat\n\ndata: a\n: mid\n\n'],
      frames: [{ kind: 'comment', text: 'heartbeat' }, { kind: 'comment', text: 'mid' }, ev('message', 'a')],
    },
    { name: 'retry', chunks: ['retry: 2000\n\n'], frames: [{ kind: 'retry', ms: 2000 }] },
    { name: 'a bad retry is ignored', chunks: ['retry: soon\n\n'], frames: [] },
    { name: 'an id without data dispatches nothing but is remembered', chunks: ['id: 9\n\n'], frames: [], lastEventId: '9' },
    { name: 'the id carries over to later events without one', chunks: ['id: 3\ndata: a\n\ndata: b\n\n'], frames: [ev('message', 'a', '3'), ev('message', 'b', '3')] },
    { name: 'an id with NUL is ignored', chunks: ['id: 4\ndata: a\n\nid: 5\0\ndata: b\n\n'], frames: [ev('message', 'a', '4'), ev('message', 'b', '4')], lastEventId: '4' },
    { name: 'event type resets after each event', chunks: ['event: x\ndata: a\n\ndata: b\n\n'], frames: [ev('x', 'a'), ev('message', 'b')] },
    { name: 'an event with no blank line yet is not dispatched', chunks: ['data: a\n'], frames: [] },
    { name: 'unknown fields are ignored', chunks: ['foo: bar\ndata: a\n\n'], frames: [ev('message', 'a')] },
    { name: 'a leading byte-order mark is skipped', chunks: ['\ufeffdata: a\n\n'], frames: [ev('message', 'a')] },
    { name: 'non-ASCII text passes through', chunks: ['data: größe ✓\n\n'], frames: [ev('message', 'größe ✓')] },
    {
      name: 'the shape restore-watcher sends',
      chunks: ['retry: 2000\n\nid: 1\nevent: restore.requested\ndata: {}\n\nevent: missed\ndata: {"missed":3,"firstAvailableId":5}\n\nevent: shutdown\ndata: {}\n\n'],
      frames: [
        { kind: 'retry', ms: 2000 },
        ev('restore.requested', '{}', '1'),
        ev('missed', '{"missed":3,"firstAvailableId":5}', '1'),
        ev('shutdown', '{}', '1'),
      ],
    },
  ];
  it.each(cases)('$name', ({ chunks, frames, lastEventId }) => {
    const r = feed(chunks);
    expect(r.frames).toEqual(frames);
    if (lastEventId !== undefined) expect(r.state.lastEventId).toBe(lastEventId);
  });

  it('gives the same frames whatever the chunking', () => {
    const text = 'retry: 2000\r\n\r\nid: 1\nevent: a\ndata: {"x":"y"}\n\n: heartbeat\n\nid: 2\r\nevent: b\r\ndata: 1\r\ndata: 2\r\n\r\n';
    const whole = feed([text]).frames;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(feed([text.slice(0, cut), text.slice(cut)]).frames, `cut at ${cut}`).toEqual(whole);
    }
    expect(feed([...text]).frames).toEqual(whole);
  });

  it('keeps the last event id given as its start (a resumed connection)', () => {
    expect(feed(['data: a\n\n'], initialSseState('41')).frames).toEqual([ev('message', 'a', '41')]);
  });
});
