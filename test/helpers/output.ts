import type { ResultPromise } from 'execa';

/** Resolves with the first match of `re` in a running child's stdout or stderr; rejects if it exits first. */
export function waitForOutput(child: ResultPromise, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = seen.match(re);
      if (m) resolve(m);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void child.then((r) => reject(new Error(`exited ${String(r.exitCode)} before ${String(re)}: ${seen}`)));
  });
}
