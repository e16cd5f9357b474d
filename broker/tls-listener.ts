import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Certificates } from './tls-certificates.js';

/** A SAN naming the device explicitly wins over the subject's CN: `URI:urn:yizhan:device:<id>`. */
const DEVICE_URI = /(?:^|,\s*)URI:urn:yizhan:device:([^,\s]+)/;

/**
 * The device id a connection's verified client certificate names, or undefined when the device
 * presented none (it logs in with its secret). Only MQTTS connections can carry one: over WSS the
 * browser-facing HTTPS server asks for no client certificate.
 */
export function certifiedDeviceId(conn: Duplex): string | undefined {
  if (!(conn instanceof tls.TLSSocket) || !conn.authorized) return undefined;
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const uri = cert.subjectaltname ? DEVICE_URI.exec(cert.subjectaltname)?.[1] : undefined;
  const cn = cert.subject?.CN;
  return uri ?? (Array.isArray(cn) ? cn[0] : cn);
}

/**
 * MQTT over TLS. With a client CA, a certificate is asked for but not required, so devices may use
 * either a certificate or a secret; a certificate that is presented and fails verification (another
 * CA, expired, not yet valid) ends the connection before MQTT starts, as Mosquitto does, rather than
 * falling back to the secret: a device with a bad certificate should fail loudly.
 */
export function createMqttsServer(
  certs: Certificates,
  onSocket: (socket: tls.TLSSocket) => void,
  onRefused: (reason: string) => void,
): tls.Server {
  const server = tls.createServer(
    { ...certs.options, requestCert: certs.clientCa, rejectUnauthorized: false },
    (socket) => {
      if (certs.clientCa && !socket.authorized && presentedCertificate(socket)) {
        onRefused(String(socket.authorizationError));
        socket.destroy();
        return;
      }
      onSocket(socket);
    },
  );
  // Handshake failures: a client that does not trust the hub's certificate, or speaks plain MQTT here.
  server.on('tlsClientError', (err) => onRefused((err as NodeJS.ErrnoException).code ?? err.message));
  certs.serve(server);
  return server;
}

function presentedCertificate(socket: tls.TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return !!cert && Object.keys(cert).length > 0;
}
