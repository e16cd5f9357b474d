import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TlsFilesError } from '../broker/tls-certificates.js';
import { ConfigError, loadConfig } from '../services/config.js';
import { testHub } from './helpers/hub.js';
import { TestPki } from './helpers/tls-certs.js';

describe('TLS settings', () => {
  it('wants the certificate and key together, and a certificate before plain MQTT can be closed', () => {
    expect(() => loadConfig({ TLS_CERT: '/x.crt' })).toThrow(/TLS_KEY: required with TLS_CERT/);
    expect(() => loadConfig({ TLS_CA: '/ca.crt' })).toThrow(/TLS_CERT: required with TLS_CA/);
    expect(() => loadConfig({ MQTT_PLAIN: 'off' })).toThrow(ConfigError);
    expect(loadConfig({ TLS_CERT: '/x.crt', TLS_KEY: '/x.key' }).MQTTS_PORT).toBe(8883);
  });

  it('refuses to start on a missing file or a key that is not the certificate’s, saying which', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yz-tlscfg-'));
    try {
      const pki = new TestPki(dir);
      pki.ca('ca');
      const a = pki.server('ca');
      const b = pki.server('ca');
      const missing = await testHub({ TLS_CERT: path.join(dir, 'nope.crt'), TLS_KEY: a.key }).catch((e) => e);
      expect(missing).toBeInstanceOf(TlsFilesError);
      expect(missing.message).toMatch(/TLS_CERT: cannot read .*nope\.crt \(ENOENT\)/);
      const mismatched = await testHub({ TLS_CERT: a.cert, TLS_KEY: b.key }).catch((e) => e);
      expect(mismatched).toBeInstanceOf(TlsFilesError);
      expect(mismatched.message).toMatch(/key values mismatch/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with MQTT_PLAIN=off listens for MQTT over TLS only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yz-tlscfg-'));
    const pki = new TestPki(dir);
    pki.ca('ca');
    const a = pki.server('ca');
    const hub = await testHub({ TLS_CERT: a.cert, TLS_KEY: a.key, MQTTS_PORT: 0, MQTT_PLAIN: 'off' });
    try {
      expect(hub.mqttUrl).toMatch(/^mqtts:/);
      expect(hub.mqttUrl).toBe(hub.mqttsUrl);
    } finally {
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
