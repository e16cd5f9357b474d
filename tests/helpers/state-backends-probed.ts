import { stateBackends } from './state-backends.js';

/** Probed once per test file that imports it: SQLite, and PostgreSQL when it answers. */
export const STATE_BACKENDS = await stateBackends();
