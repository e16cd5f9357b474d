import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router';
import type { Role } from '../../contract/index.js';
import { rolesFor } from './context.js';
import OverviewView from './views/OverviewView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Roles that may open the page; others are sent to the overview (the API would refuse them anyway). */
    roles?: readonly Role[];
  }
}

/**
 * The overview is in the first-load bundle; the other pages, and ECharts with the site page, load
 * when first opened.
 */
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'overview', component: OverviewView },
    { path: '/sites/:id', name: 'site', component: () => import('./views/SiteView.vue'), props: true },
    {
      path: '/devices',
      name: 'devices',
      component: () => import('./views/DevicesView.vue'),
      meta: { roles: rolesFor.devices },
    },
    { path: '/alerts', name: 'alerts', component: () => import('./views/AlertsView.vue') },
    {
      path: '/users',
      name: 'users',
      component: () => import('./views/UsersView.vue'),
      meta: { roles: rolesFor.users },
    },
    {
      // The planners' red and black list (issue 16).
      path: '/watchlist',
      name: 'watchlist',
      component: () => import('./views/WatchlistView.vue'),
      meta: { roles: ['admin', 'planner'] },
    },
    { path: '/account', name: 'account', component: () => import('./views/AccountView.vue') },
    {
      path: '/outbox',
      name: 'outbox',
      component: () => import('./views/OutboxView.vue'),
      meta: { roles: ['admin'] },
    },
    {
      // Planners' usage trends (issue 12); a manager's page covers their own sites.
      path: '/trends',
      name: 'trends',
      component: () => import('./views/TrendsView.vue'),
      meta: { roles: rolesFor.trends },
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});

/** Undefined while logged out: the login page shows instead, and the wanted page opens after it. */
let role: Role | undefined;
const allowed = (to: RouteLocationNormalized) => !to.meta.roles || !role || to.meta.roles.includes(role);
router.beforeEach((to) => (allowed(to) ? true : { name: 'overview' }));

/** Called when the user logs in or their role changes; leaves a page the new role may not open. */
export function setRouteRole(r: Role | undefined): void {
  role = r;
  if (!allowed(router.currentRoute.value)) void router.replace({ name: 'overview' });
}
