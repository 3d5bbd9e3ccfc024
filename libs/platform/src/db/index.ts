export * from './migrate.js';
export * from './notifications.js';
export * from './sql.js';
