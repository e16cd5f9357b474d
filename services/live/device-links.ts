/** The hub of a single-hub install, where connection events carry no hub. */
const THIS_HUB = '';

/**
 * Which hubs hold a connection of each device. In a cluster a device that moves from hub A to hub
 * B may be reported connected on B before A reports its old connection gone, so "online" is "some
 * hub holds a connection", never the last event's word.
 */
export class DeviceLinks {
  private readonly hubs = new Map<string, Set<string>>();

  /** Records the event and tells whether the device is online now. */
  apply(deviceId: string, connected: boolean, hub = THIS_HUB): boolean {
    let at = this.hubs.get(deviceId);
    if (connected) {
      if (!at) {
        at = new Set();
        this.hubs.set(deviceId, at);
      }
      at.add(hub);
      return true;
    }
    at?.delete(hub);
    if (at?.size === 0) this.hubs.delete(deviceId);
    return (at?.size ?? 0) > 0;
  }
}
