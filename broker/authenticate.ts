import type { AuthenticateError } from 'aedes';
import type { BrokerDevice, DeviceDirectory } from './device-directory.js';

// CONNACK return codes, [MQTT-3.2.2.3]; aedes exports them only as a const enum.
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export class ConnectRefused<D extends BrokerDevice = BrokerDevice>
  extends Error
  implements AuthenticateError
{
  constructor(
    readonly returnCode: 2 | 4 | 5,
    message: string,
    /** Set when the id is a known device and the secret was wrong: counted against that device. */
    readonly wrongSecretFor?: D,
  ) {
    super(message);
  }
}

/**
 * Username is the device id, password its secret. An unknown device and a wrong secret get the
 * same answer so that the broker does not tell which device ids exist; a disabled device is told
 * it is not authorised, which is what its operator needs to see in the firmware log. The client
 * id must be the device id too: otherwise one device's secret could take over another device's
 * session (aedes closes the older connection with the same client id and hands the newcomer its
 * queued commands).
 */
export async function authenticateDevice<D extends BrokerDevice>(
  devices: DeviceDirectory<D>,
  clientId: string,
  username: string | undefined,
  password: Buffer | undefined,
  certified?: string,
): Promise<D> {
  if (certified !== undefined) return byCertificate(devices, clientId, username, certified);
  let device = username ? devices.get(username) : undefined;
  let ok = device && password ? await devices.verifySecret(password.toString('utf8'), device) : false;
  if (!ok && username && devices.reload) {
    device = await devices.reload(username);
    ok = device && password ? await devices.verifySecret(password.toString('utf8'), device) : false;
  }
  if (!device) throw new ConnectRefused(BAD_USERNAME_OR_PASSWORD, 'bad device id or secret');
  if (!ok) throw new ConnectRefused(BAD_USERNAME_OR_PASSWORD, 'bad device id or secret', device);
  if (!device.enabled) throw new ConnectRefused(NOT_AUTHORIZED, `device ${device.id} is disabled`);
  if (clientId !== device.id) {
    throw new ConnectRefused(IDENTIFIER_REJECTED, `client id must be the device id ${device.id}`);
  }
  return device;
}

/**
 * A device whose client certificate the hub's CA signed: the certificate names the device and no
 * secret is needed. The names in the CONNECT packet may only repeat it, so a certificate for one
 * device can never log in as another (and so never reach another device's topics).
 */
function byCertificate<D extends BrokerDevice>(
  devices: DeviceDirectory<D>,
  clientId: string,
  username: string | undefined,
  certified: string,
): D {
  const device = devices.get(certified);
  if (!device) throw new ConnectRefused(BAD_USERNAME_OR_PASSWORD, 'certificate names no known device');
  if (username && username !== device.id) {
    throw new ConnectRefused(BAD_USERNAME_OR_PASSWORD, `the certificate is for device ${device.id}`);
  }
  if (!device.enabled) throw new ConnectRefused(NOT_AUTHORIZED, `device ${device.id} is disabled`);
  if (clientId !== device.id) {
    throw new ConnectRefused(IDENTIFIER_REJECTED, `client id must be the device id ${device.id}`);
  }
  return device;
}
