import './zod-config.js';
import { createApp } from 'vue';
import App from './App.vue';
import { api, errorCode } from './api.js';
import { i18n } from './i18n.js';
import { router } from './router.js';
import { setTimeZone } from './time.js';
import './style.css';

/** Configuration and the session are read before the first render, so no time is shown in the wrong zone. */
async function boot() {
  const [config, me] = await Promise.all([
    api.config().catch(() => null),
    api.me().then(
      (user) => ({ user, notice: null }),
      (err: unknown) => ({ user: null, notice: errorCode(err) }),
    ),
  ]);
  if (config) setTimeZone(config.timeZone);
  createApp(App, { initialUser: me.user, initialNotice: me.notice }).use(i18n).use(router).mount('#app');
}

void boot();
