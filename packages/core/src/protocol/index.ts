export { bytesEqual } from './bytes.js';
export * from './errors.js';
export * from './limits.js';
export * from './frames.js';
export * from './ids.js';
export * from './link.js';
export * from './link-time.js';
export * from './password.js';
export * from './relayAuth.js';
