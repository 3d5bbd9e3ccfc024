export * from './config.js';
export * from './logger.js';
export * from './errors.js';
export * from './money.js';
export * from './tracing.js';
export * from './lifecycle.js';
export * from './validation.js';
export * from './ids.js';
