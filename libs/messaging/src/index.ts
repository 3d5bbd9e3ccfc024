export * from './kafka.js';
export * from './sql.js';
export * from './outbox.js';
export * from './consumer.js';
export * from './runtime.js';
export * from './metrics.js';
export * from './maintenance.js';
export * from './failures.js';
