export * from './catalog.js';
export * from './codec.js';
export * from './topology.js';
export { provision, provisionConfigSchema } from './cli/provision.js';
export * from './access.js';
export * from './kafka-client.js';
export { provisionAcls } from './cli/provision.js';
