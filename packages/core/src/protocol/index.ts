export * from './errors.js';
export * from './limits.js';
export * from './frames.js';
export * from './ids.js';
export * from './link.js';
