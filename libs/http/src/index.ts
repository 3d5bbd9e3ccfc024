export * from './problem.js';
export * from './auth.js';
export * from './server.js';
export * from './schemas.js';
export * from './metrics.js';
export * from './prefer.js';
export * from './audit.js';
export * from './rate-limit.js';
