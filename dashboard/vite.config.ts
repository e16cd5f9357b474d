import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/** The hub in development; `YZ_HUB_URL=http://host:port npx vite dashboard` points elsewhere. */
const hub = process.env.YZ_HUB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  define: {
    // Composition API only: lets the bundler drop Vue's options API and vue-i18n's legacy API.
    __VUE_OPTIONS_API__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The one large chunk is ECharts (~540 kB, 185 kB gzip), loaded only with the site page; the
    // first load stays under 100 kB gzip. Warn above that, not at Vite's default 500 kB.
    chunkSizeWarningLimit: 600,
    // Two pages: the staff app, and the residents' booking page (/book), which bundles none of it.
    // (`rolldownOptions` is Vite 8's name for the deprecated `rollupOptions`.)
    rolldownOptions: {
      input: {
        main: fileURLToPath(new URL('index.html', import.meta.url)),
        book: fileURLToPath(new URL('book.html', import.meta.url)),
        // The public station finder (/stations, issue 16).
        stations: fileURLToPath(new URL('stations.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: hub },
      '/socket.io': { target: hub, ws: true },
    },
  },
});
