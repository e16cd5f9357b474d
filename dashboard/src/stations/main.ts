// First, before any contract schema is built: no `Function('')` probe under the hub's CSP.
import '../zod-config.js';
import { createApp } from 'vue';
import '../style.css';
import './stations.css';
import { stationsI18n } from './i18n.js';
import StationsApp from './StationsApp.vue';

/** The public station finder (/stations, /stations/<siteId> from a QR poster): no login, phone first. */
createApp(StationsApp).use(stationsI18n).mount('#stations');
