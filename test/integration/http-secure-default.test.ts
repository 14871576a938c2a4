import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { basic } from '../helpers/log.js';
import { startError, startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';
import { haveTool } from '../helpers/tools.js';

const tmp = (): string => tempDir('rw-secure-');
let service: TestService | undefined;
afterEach(async () => {
  await service?.dispose();
  service = undefined;
});

describe('secure default', () => {
  it('serve refuses a public address without a password, saying how to set one', async () => {
    const dir = tmp();
    const r = await cli(['serve', '--host', '0.0.0.0', '--port', '0', '--log', join(dir, 'p.log'), '--state-dir', join(dir, 's')], {
      env: { RESTORE_WATCHER_PASSWORD: '' },
    });
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/^restore-watcher: refusing to listen on 0\.0\.0\.0 without a password/);
    expect(r.stderr).toContain('RESTORE_WATCHER_PASSWORD');
    expect(r.stderr).not.toContain('    at ');
  });

  it('the service refuses before it opens a port or follows anything', async () => {
    const err = await startError(startTestService({ http: { host: '0.0.0.0' } }, { dir: tmp() }));
    expect(err.code).toBe('RW_INSECURE_BIND');
  });

  it('an unreadable certificate is RW_TLS_UNREADABLE, naming the file', async () => {
    const dir = tmp();
    const err = await startError(
      startTestService({ http: { tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'key.pem') } } }, { dir }),
    );
    expect(err.code).toBe('RW_TLS_UNREADABLE');
    expect(err.message).toBe(`TLS certificate ${join(dir, 'missing.pem')}: no such file`);
  });

  it('a readable file that is not a certificate is RW_TLS_UNREADABLE too', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    const err = await startError(
      startTestService({ http: { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } } }, { dir }),
    );
    expect(err.code).toBe('RW_TLS_UNREADABLE');
    expect(err.message).toMatch(/^TLS certificate or key cannot be used: /);
  });
});

describe.skipIf(!haveTool('openssl', 'openssl'))('TLS', () => {
  it('serves HTTPS with the configured certificate, behind auth', async () => {
    const dir = tmp();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    service = await startTestService({ http: { tls: { certFile: cert, keyFile: key } }, auth: { password: 'pw' } }, { dir });
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const get = (authorization?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${service!.url}/status`,
          { ca: readFileSync(cert), headers: authorization ? { Authorization: authorization } : {} },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
    expect((await get()).status).toBe(401);
    const ok = await get(basic('admin', 'pw'));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ state: 'waiting-for-log' });
  });
});
