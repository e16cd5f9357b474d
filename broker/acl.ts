import { type Channel, topicFor, uplinkChannels } from '../contract/index.js';
import type { BrokerDevice } from './device-directory.js';

/**
 * What a device may do, derived from the contract's topic scheme: publish only on its own
 * telemetry/event/status topics, subscribe only to its own command topic. Nothing else, not even
 * wildcards that would cover its own topics, so a leaked secret exposes one device and no more.
 */
export function publishChannel(device: BrokerDevice, topic: string): Channel | null {
  for (const channel of uplinkChannels) {
    if (topic === topicFor(device.siteId, device.id, channel)) return channel;
  }
  return null;
}

export function maySubscribe(device: BrokerDevice, topicFilter: string): boolean {
  return topicFilter === topicFor(device.siteId, device.id, 'cmd');
}
