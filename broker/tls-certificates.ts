import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA whose client certificates devices may log in with (mTLS). */
  ca?: string;
}

export class TlsFilesError extends Error {
  readonly code = 'HUB_TLS_INVALID';
}

interface Loaded {
  options: tls.SecureContextOptions;
  /** The leaf certificate's expiry, for the metric that warns before it lapses. */
  notAfter: Date;
  /** Changes with any of the files: a poll that finds the same stamp reloads nothing. */
  stamp: string;
}

/**
 * The hub's certificate, key and client CA, shared by every TLS listener (MQTTS, HTTPS with WSS).
 * A renewal is picked up without a restart: on SIGHUP (`reload()`) or when a poll sees the files
 * change (`watch()`), each server gets the new context through `setSecureContext`, which only
 * new handshakes use, so connected devices and dashboards stay connected. A pair that does not
 * load (half-written by certbot, key and certificate mismatched) is refused and the old one kept;
 * the next change of either file tries again.
 */
export class Certificates {
  private loaded: Loaded;
  private readonly servers = new Set<tls.Server>();
  private watching = false;
  readonly stats = { reloads: 0, reloadFailures: 0, lastError: null as string | null };

  constructor(
    private readonly files: TlsFiles,
    private readonly log: { info(o: object, m: string): void; error(o: object, m: string): void },
  ) {
    this.loaded = load(files);
  }

  /** Options for `tls.createServer`/`https.createServer` (the current certificate). */
  get options(): tls.SecureContextOptions {
    return this.loaded.options;
  }

  get notAfter(): Date {
    return this.loaded.notAfter;
  }

  get clientCa(): boolean {
    return !!this.files.ca;
  }

  /** A server that should follow reloads. */
  serve(server: tls.Server): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /** Reads the files again; true when the new certificate is now served to new connections. */
  reload(): boolean {
    let next: Loaded;
    try {
      next = load(this.files);
    } catch (err) {
      this.stats.reloadFailures += 1;
      this.stats.lastError = (err as Error).message;
      this.log.error({ err: (err as Error).message }, 'TLS certificate not reloaded; the previous one stays');
      return false;
    }
    for (const server of this.servers) server.setSecureContext(next.options);
    const changed = next.stamp !== this.loaded.stamp;
    this.loaded = next;
    this.stats.reloads += 1;
    this.stats.lastError = null;
    this.log.info({ notAfter: next.notAfter.toISOString(), changed }, 'TLS certificate reloaded');
    return true;
  }

  /**
   * Polls the files' modification times. Polling rather than fs.watch: renewal tools replace files
   * by rename or swap a symlink, which inotify watches on the old inode do not see.
   */
  watch(everyMs: number): void {
    if (this.watching) return;
    this.watching = true;
    for (const file of this.paths()) {
      fs.watchFile(file, { interval: everyMs, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) {
          if (stampOf(this.files) !== this.loaded.stamp) this.reload();
        }
      });
    }
  }

  unwatch(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const file of this.paths()) fs.unwatchFile(file);
  }

  private paths(): string[] {
    return [this.files.cert, this.files.key, ...(this.files.ca ? [this.files.ca] : [])];
  }
}

function read(label: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new TlsFilesError(`${label}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
}

function load(files: TlsFiles): Loaded {
  const options: tls.SecureContextOptions = {
    cert: read('TLS_CERT', files.cert),
    key: read('TLS_KEY', files.key),
    ...(files.ca ? { ca: read('TLS_CA', files.ca) } : {}),
  };
  let notAfter: Date;
  try {
    // Throws on a key that does not belong to the certificate, or on anything that is not PEM.
    tls.createSecureContext(options);
    notAfter = new Date(new X509Certificate(options.cert as Buffer).validTo);
  } catch (err) {
    throw new TlsFilesError(`TLS_CERT/TLS_KEY/TLS_CA: ${(err as Error).message}`);
  }
  return { options, notAfter, stamp: stampOf(files) };
}

function stampOf(files: TlsFiles): string {
  return [files.cert, files.key, files.ca]
    .map((f) => {
      if (!f) return '';
      try {
        const s = fs.statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
