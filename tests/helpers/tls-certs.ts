import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

/** Certificates made at test time with Debian's openssl: nothing is checked in that could expire. */
export class TestPki {
  private n = 0;
  constructor(readonly dir: string) {}

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  /** A self-signed CA; returns the path of its certificate. */
  ca(name: string): string {
    this.openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '30',
    );
    return path.join(this.dir, `${name}.crt`);
  }

  /**
   * A certificate for `cn` signed by CA `ca`; `days` may be negative (already expired). `san` is an
   * openssl subjectAltName value. Returns the paths of the certificate and its key.
   */
  issue(ca: string, cn: string, opts: { days?: number; san?: string } = {}): { cert: string; key: string } {
    const name = `${cn.replace(/[^\w.-]/g, '_')}-${++this.n}`;
    this.openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    const ext = path.join(this.dir, `${name}.ext`);
    fs.writeFileSync(ext, opts.san ? `subjectAltName=${opts.san}\n` : 'basicConstraints=CA:FALSE\n');
    this.openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(opts.days ?? 30),
      '-extfile',
      ext,
    );
    return { cert: path.join(this.dir, `${name}.crt`), key: path.join(this.dir, `${name}.key`) };
  }

  /** A server certificate the hub can serve on 127.0.0.1. */
  server(ca: string): { cert: string; key: string } {
    return this.issue(ca, 'hub.test', { san: 'IP:127.0.0.1,DNS:localhost' });
  }
}

export const read = (file: string) => fs.readFileSync(file);

/** A request over HTTPS trusting `ca` (global fetch cannot be given a CA on Node 20). */
export function httpsRequest(
  url: string,
  opts: { ca: Buffer; method?: string; body?: unknown; cookie?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: opts.ca,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(opts.method && opts.method !== 'GET' ? { 'x-requested-with': 'fetch' } : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
