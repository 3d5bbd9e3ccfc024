export * from './definition.js';
export * from './run.js';
