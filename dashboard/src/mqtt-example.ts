import type { DeviceKind, ProvisionedDevice } from '../../contract/index.js';

/** A device's credentials, shown once after provisioning or rotating its secret. */
export interface Revealed {
  deviceId: string;
  kind: DeviceKind;
  secret: string;
  username: string;
  topicPrefix: string;
  /** MQTT/TCP port as the hub bound it (from the API reply); null when plain MQTT is off. */
  port: number | null;
  /** MQTT over TLS port; null when the hub has no certificate. */
  tlsPort: number | null;
  /** Host the dashboard was loaded from; devices usually reach the hub by the same name. */
  host: string;
  /** ws:// or wss:// URL of MQTT over WebSocket on the hub's HTTP port. */
  wsUrl: string;
}

/** One plausible reading per kind, valid against the device contract. */
const sampleValues: Record<DeviceKind, Record<string, number | boolean>> = {
  occupancy_counter: { occupancy: 3 },
  door_sensor: { open: false },
  water_dispenser: { on: true, water_level_pct: 80 },
  microwave: { on: false, power_w: 0 },
  air_conditioner: { on: true, setpoint_c: 26 },
  lending_cabinet: { umbrellas: 10, raincoats: 5 },
  environment_sensor: { temperature_c: 22.5, humidity_pct: 55 },
};

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The file name the TLS example expects the hub's CA certificate under. */
export const CA_FILE = 'hub-ca.pem';

/**
 * A shell snippet that publishes one reading as this device, QoS 1; over TLS when the hub offers it
 * (the secret then never crosses the network in clear), with `caNote` saying where the CA comes from. The hub keeps one reading per
 * (device, seq), so a fixed seq would be stored once and then silently dropped as a resend: seq and
 * ts are made by the shell on every run (seconds since 1970 grow between runs). ts is milliseconds
 * since the epoch (contract/device/payloads.ts); `$((SEQ * 1000))` rather than GNU `date +%s%3N`
 * so it also runs on macOS and busybox. `seqNote` explains seq in the reader's language.
 */
export function mosquittoExample(r: Revealed, seqNote: string, caNote = ''): string {
  const values = JSON.stringify(sampleValues[r.kind]);
  // Single quotes around the JSON; the shell variables are spliced in between them.
  const payload = `'{"readings":[{"seq":'"$SEQ"',"ts":'"$TS"',"values":${values}}]}'`;
  const tls = r.tlsPort !== null;
  const where = tls ? `-p ${r.tlsPort} --cafile ${CA_FILE}` : `-p ${r.port}`;
  return [
    `# ${seqNote.replaceAll('\n', ' ')}`,
    ...(tls && caNote ? [`# ${caNote.replaceAll('\n', ' ')}`] : []),
    'SEQ=$(date +%s); TS=$((SEQ * 1000))',
    `mosquitto_pub -h ${r.host} ${where} -i ${r.username} -u ${r.username} -P ${shellQuote(r.secret)} -q 1 \\`,
    `  -t ${shellQuote(`${r.topicPrefix}/telemetry`)} \\`,
    `  -m ${payload}`,
  ].join('\n');
}

/** What to show from a provision or rotate-secret reply. */
export function revealFrom(reply: ProvisionedDevice): Revealed {
  const { protocol, hostname, host } = window.location;
  return {
    deviceId: reply.device.id,
    kind: reply.device.kind,
    secret: reply.secret,
    username: reply.mqtt.username,
    topicPrefix: reply.mqtt.topicPrefix,
    port: reply.mqtt.port,
    tlsPort: reply.mqtt.tlsPort,
    host: hostname,
    wsUrl: `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/mqtt`,
  };
}

/** Copies text; falls back to a selected textarea where the Clipboard API is missing (plain http). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
