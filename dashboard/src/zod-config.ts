import { z } from 'zod';

// The hub's Content-Security-Policy has no 'unsafe-eval' (services/api/security-headers.ts). Zod
// would probe `Function('')` to compile faster parsers, and the probe alone is a CSP violation.
// Imported first by main.ts, so it is set before any schema parses.
z.config({ jitless: true });
