export * from './appointments.js';
export * from './device/index.js';
export * from './domain.js';
export * from './errors.js';
export * from './rules/screening.js';
export * from './rules/site-status.js';
export * from './rules/zoned-time.js';
export * from './socket.js';
