/**
 * One HTTP GET with a streaming body, over node:http or node:https, behind a small
 * interface so the connection loop can be driven by a fake in tests. Each request
 * gets its own socket (no keep-alive pool): a stream that is given up on is
 * destroyed, never reused.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
}

/** After `response`, any number of `data`; then exactly one of `end` or `error`, and nothing after. */
export interface HttpHandlers {
  response(answer: HttpAnswer): void;
  data(text: string): void;
  end(): void;
  error(err: Error): void;
}

export interface HttpRequest {
  /** Stops the request; no handler is called after this. */
  close(): void;
}

export type Transport = (url: URL, headers: Record<string, string>, handlers: HttpHandlers) => HttpRequest;

export const nodeTransport: Transport = (url, headers, handlers) => {
  let done = false;
  const finish = (fn: () => void): void => {
    if (done) return;
    done = true;
    fn();
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
    if (done) return;
    // A streaming decoder: a UTF-8 character split across chunks stays whole.
    res.setEncoding('utf8');
    handlers.response({ status: res.statusCode ?? 0, headers: res.headers });
    res.on('data', (text: string) => {
      if (!done) handlers.data(text);
    });
    res.on('end', () => finish(() => handlers.end()));
    res.on('aborted', () => finish(() => handlers.error(new Error('the connection was cut'))));
    res.on('error', (err) => finish(() => handlers.error(err)));
    res.on('close', () => finish(() => handlers.end()));
  });
  req.on('error', (err) => finish(() => handlers.error(err)));
  req.end();
  return {
    close: () => {
      done = true;
      req.destroy();
    },
  };
};
