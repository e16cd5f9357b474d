import { z } from 'zod';

/**
 * Topic scheme, version 1: `yz/v1/{siteId}/{deviceId}/{channel}`.
 * Ids are lower-case ASCII so that no id can smuggle a topic separator, a wildcard or a look-alike
 * Unicode character into a topic ([MQTT-4.7.1-1] wildcards are only valid in filters).
 */
export const TOPIC_PREFIX = 'yz/v1';
export const channels = ['telemetry', 'event', 'status', 'cmd'] as const;
export type Channel = (typeof channels)[number];

const idPattern = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const siteId = z.string().regex(idPattern, 'lower-case letters, digits and inner dashes, 1–64');
export const deviceId = z.string().regex(idPattern, 'lower-case letters, digits and inner dashes, 1–64');

/** Channels a device may publish on; `cmd` is downlink only. */
export const uplinkChannels: readonly Channel[] = ['telemetry', 'event', 'status'];

export function topicFor(site: string, device: string, channel: Channel): string {
  return `${TOPIC_PREFIX}/${site}/${device}/${channel}`;
}

export interface ParsedTopic {
  siteId: string;
  deviceId: string;
  channel: Channel;
}

/** Parses a concrete (wildcard-free) topic; returns null for anything outside the scheme. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  const [, , site, device, channel] = parts as [string, string, string, string, string];
  if (!idPattern.test(site) || !idPattern.test(device)) return null;
  if (!(channels as readonly string[]).includes(channel)) return null;
  return { siteId: site, deviceId: device, channel: channel as Channel };
}
