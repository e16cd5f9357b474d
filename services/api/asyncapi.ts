import { z } from 'zod';
import {
  commandSchema,
  type DeviceKind,
  deviceKinds,
  eventBatchSchemas,
  MAX_BATCH,
  statusSchema,
  TOPIC_PREFIX,
  telemetrySchemas,
} from '../../contract/index.js';

/** AsyncAPI's default schema format is a superset of JSON Schema draft-07. */
const payload = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { target: 'draft-7' }) as Record<string, unknown>;
  return rest;
};

const kinds = Object.keys(deviceKinds) as DeviceKind[];
const ref = (path: string) => ({ $ref: `#/${path}` });
const address = (channel: string) => `${TOPIC_PREFIX}/{siteId}/{deviceId}/${channel}`;
const parameters = {
  siteId: { description: 'the site (hut) the device was provisioned at' },
  deviceId: { description: 'the device id, which is also its MQTT user name and client id' },
};
const qos1 = (retain = false) => ({ mqtt: { qos: 1, retain, bindingVersion: '0.2.0' } });

/**
 * The MQTT side of the hub as an AsyncAPI 3.0 document, generated from the same zod contract that
 * ingest checks every message against (contract/device), so it cannot drift from what is enforced.
 * It describes a device: what it publishes and what it receives. Served at /docs/asyncapi.json.
 */
export function asyncApiDocument(where: {
  hostname: string;
  mqttPort: number | null;
  mqttsPort: number | null;
  httpHost: string;
  https: boolean;
}) {
  const messages: Record<string, unknown> = {
    status: {
      name: 'status',
      title: 'Online status',
      summary: 'Retained. The Last Will is {"online":false} on the same topic.',
      payload: payload(statusSchema),
    },
    command: {
      name: 'command',
      title: 'Command',
      summary: 'Answer with a cmd_result event whose code is the command id.',
      payload: payload(commandSchema),
    },
  };
  for (const kind of kinds) {
    const label = deviceKinds[kind].label.en;
    messages[`${kind}.telemetry`] = {
      name: `${kind}.telemetry`,
      title: `${label} readings`,
      summary: `1–${MAX_BATCH} readings; a reading resent with the same seq is stored once.`,
      payload: payload(telemetrySchemas[kind]),
    };
    messages[`${kind}.event`] = {
      name: `${kind}.event`,
      title: `${label} events`,
      payload: payload(eventBatchSchemas[kind]),
    };
  }
  const byChannel = (suffix: string) =>
    Object.fromEntries(kinds.map((k) => [`${k}.${suffix}`, ref(`components/messages/${k}.${suffix}`)]));

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Yizhan Hub device contract (MQTT)',
      version: '1',
      description:
        "What a device in a hut publishes to the hub and receives from it. Every message is checked against these schemas; one that breaks them is acknowledged, dropped and counted (GET /api/ingest/errors). A publish or subscription outside the device's own topics closes the connection. A PUBACK means the readings are stored.",
    },
    defaultContentType: 'application/json',
    servers: {
      ...(where.mqttPort === null
        ? {}
        : {
            tcp: {
              host: `${where.hostname}:${where.mqttPort}`,
              protocol: 'mqtt',
              protocolVersion: '3.1.1',
              security: [ref('components/securitySchemes/device')],
            },
          }),
      ...(where.mqttsPort === null
        ? {}
        : {
            tls: {
              host: `${where.hostname}:${where.mqttsPort}`,
              protocol: 'mqtts',
              protocolVersion: '3.1.1',
              description: 'MQTT 3.1.1 over TLS; a client certificate may replace the secret',
              security: [ref('components/securitySchemes/device')],
            },
          }),
      websocket: {
        host: where.httpHost,
        pathname: '/mqtt',
        protocol: where.https ? 'wss' : 'ws',
        description: 'MQTT 3.1.1 over WebSocket',
        security: [ref('components/securitySchemes/device')],
      },
    },
    channels: {
      telemetry: { address: address('telemetry'), parameters, messages: byChannel('telemetry') },
      event: { address: address('event'), parameters, messages: byChannel('event') },
      status: {
        address: address('status'),
        parameters,
        messages: { status: ref('components/messages/status') },
      },
      cmd: { address: address('cmd'), parameters, messages: { command: ref('components/messages/command') } },
    },
    operations: {
      sendTelemetry: {
        action: 'send',
        channel: ref('channels/telemetry'),
        summary: 'Publish readings, QoS 1',
        bindings: qos1(),
      },
      sendEvents: {
        action: 'send',
        channel: ref('channels/event'),
        summary: 'Publish events, QoS 1',
        bindings: qos1(),
      },
      sendStatus: {
        action: 'send',
        channel: ref('channels/status'),
        summary: 'Publish the online status, retained',
        bindings: qos1(true),
      },
      receiveCommands: {
        action: 'receive',
        channel: ref('channels/cmd'),
        summary: 'Subscribe to commands from the hub',
        bindings: qos1(),
      },
    },
    components: {
      messages,
      securitySchemes: {
        device: {
          type: 'userPassword',
          description:
            'User name and client id = the device id; password = the secret shown once when it was provisioned or its secret rotated.',
        },
      },
    },
  };
}
