import { request } from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A minimal SSE reader over node:http that records every frame, for tests. */
export class SseReader {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  ended = false;
  private buffer = '';
  private req: ReturnType<typeof request> | null = null;

  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    return new Promise((resolve, reject) => {
      reader.req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        reader.status = res.statusCode ?? 0;
        reader.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => reader.take(chunk));
        res.on('end', () => (reader.ended = true));
        res.on('close', () => (reader.ended = true));
        res.on('error', () => (reader.ended = true));
        resolve(reader);
      });
      reader.req.on('error', reject);
      reader.req.end();
    });
  }

  /** Frames that carry an event (id and data), parsed. */
  events<T = Record<string, unknown>>(): Array<T & { id: number; type: string }> {
    return this.frames
      .filter((f) => f.id !== undefined && f.data !== undefined)
      .map((f) => JSON.parse(f.data!) as T & { id: number; type: string });
  }

  close(): void {
    this.req?.destroy();
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const key = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (key === 'id' || key === 'event' || key === 'data') frame[key] = value;
        }
      }
      this.frames.push(frame);
    }
  }
}
