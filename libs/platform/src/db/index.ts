export * from './migrate.js';
export * from './notifications.js';
