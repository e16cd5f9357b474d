import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../contract/index.js';
import { ApiClient, adminWithSite, provision, siteFixture, testHub } from './helpers/hub.js';

const A = 'ids-a';
const B = 'ids-b';

describe("provisioning does not tell a manager whether another site's device id exists (issue 8 item 4)", () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  let manager: ApiClient;

  beforeAll(async () => {
    hub = await testHub();
    admin = await adminWithSite(hub, A);
    await admin.json('POST', '/api/sites', siteFixture(B));
    await provision(admin, B, `${B}-door`, 'door_sensor');
    await admin.json('POST', '/api/users', {
      username: 'mgr-a',
      password: 'manager-a-password',
      role: 'manager',
      siteIds: [A],
    });
    manager = new ApiClient(hub.httpUrl);
    await manager.login('mgr-a', 'manager-a-password');
  });
  afterAll(async () => hub?.close());

  it("answers an id taken at another site exactly as a free id outside the manager's namespace", async () => {
    const taken = await manager.json<ApiError>('POST', `/api/sites/${A}/devices`, {
      id: `${B}-door`,
      kind: 'door_sensor',
    });
    const free = await manager.json<ApiError>('POST', `/api/sites/${A}/devices`, {
      id: `${B}-window`,
      kind: 'door_sensor',
    });
    expect(taken.status).toBe(400);
    expect(taken.body.code).toBe('VALIDATION');
    expect(taken.body.fields?.map((f) => f.path)).toEqual(['body.id']);
    expect({ status: free.status, body: free.body }).toEqual({ status: taken.status, body: taken.body });
    // Nothing was created either way.
    const listed = await admin.json<{ devices: { id: string }[] }>('GET', `/api/devices?siteId=${A}`);
    expect(listed.body.devices).toEqual([]);
  });

  it('lets the manager provision inside their namespace, where "taken" is about their own site', async () => {
    const body = { id: `${A}-door`, kind: 'door_sensor' };
    expect((await manager.json('POST', `/api/sites/${A}/devices`, body)).status).toBe(201);
    const again = await manager.json<ApiError>('POST', `/api/sites/${A}/devices`, body);
    expect(again).toMatchObject({ status: 409, body: { code: 'DEVICE_EXISTS' } });
  });

  it('leaves admins, who see every site, free to choose any id', async () => {
    expect((await provision(admin, A, 'legacy-counter-7', 'occupancy_counter')).device.id).toBe(
      'legacy-counter-7',
    );
  });
});
