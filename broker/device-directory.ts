import type { DeviceKind } from '../contract/index.js';

/**
 * What the broker needs to know about a device: who it is, where it may publish, whether it may
 * connect. The broker owns this small interface and the state store implements it, so broker/
 * depends on no part of services/.
 */
export interface BrokerDevice {
  id: string;
  siteId: string;
  kind: DeviceKind;
  enabled: boolean;
  /** Changes when the secret is rotated: a connection made with the old secret is then dropped. */
  secretHash: string;
}

export interface DeviceDirectory<D extends BrokerDevice = BrokerDevice> {
  get(id: string): D | undefined;
  verifySecret(secret: string, device: D): Promise<boolean>;
  /**
   * Reads a device again from where it is kept. Set when another process may have just changed it
   * (several hubs): a device provisioned or re-keyed on another hub may connect before this one
   * heard of it.
   */
  reload?(id: string): Promise<D | undefined>;
}
