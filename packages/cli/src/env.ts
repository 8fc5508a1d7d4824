/**
 * Environment variables the command line reads, in one place. A light module on purpose: `join`
 * imports it without loading the relay's code (serve-ops.ts does).
 */
export const PASSWORD_ENV = 'SAFEHOUSE_PASSWORD';
export const ADMIN_PASSPHRASE_ENV = 'SAFEHOUSE_ADMIN_KEY_PASSPHRASE';
