import { type InjectionKey, inject, type Ref } from 'vue';
import type { Role, User } from '../../contract/index.js';
import { mayReadPersonalData } from '../../contract/rules/permissions.js';
import type { Live } from './live.js';

/** What every page of a logged-in user shares: who they are and the one live connection. */
export const UserKey: InjectionKey<Readonly<Ref<User>>> = Symbol('user');
export const LiveKey: InjectionKey<Live> = Symbol('live');

function required<T>(key: InjectionKey<T>, name: string): T {
  const v = inject(key);
  if (v === undefined) throw new Error(`${name} is provided by AppShell`);
  return v;
}

export const useUser = () => required(UserKey, 'user');
export const useLiveContext = () => required(LiveKey, 'live');

/** The server enforces all of these; the dashboard only hides what would be refused. */
export const can = {
  operateDevices: (u: User, siteId?: string) =>
    u.role === 'admin' || (u.role === 'manager' && (siteId === undefined || u.siteIds.includes(siteId))),
  manageUsers: (u: User) => u.role === 'admin',
  /** Residents' personal data (appointments, issue 4): never planners. The server's own rule. */
  readPersonalData: mayReadPersonalData,
};

export const rolesFor: Record<'devices' | 'users' | 'trends', readonly Role[]> = {
  devices: ['admin', 'manager'],
  users: ['admin'],
  trends: ['admin', 'planner', 'manager'],
};
