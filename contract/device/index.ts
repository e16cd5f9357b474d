export * from './kinds.js';
export * from './payloads.js';
export * from './topics.js';
