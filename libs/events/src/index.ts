export * from './catalog.js';
export * from './codec.js';
export * from './topology.js';
export { provision, provisionConfigSchema } from './cli/provision.js';
