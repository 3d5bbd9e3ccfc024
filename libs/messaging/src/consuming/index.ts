export * from './delivery.js';
export * from './retry.js';
export * from './decode.js';
export * from './handlers.js';
export * from './inbox.js';
export * from './dead-letter.js';
export * from './observe.js';
export * from './batch.js';
