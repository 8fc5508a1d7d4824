export type * from './api.js';
export { createE2ee, type E2eeOptions } from './e2ee.js';
export { DeviceIdentity } from './identity.js';
export { exportIdentity, importIdentity } from './identityExport.js';
export { PinStore, type PinObservation, type PinState } from './pins.js';
export { formatFingerprint, safetyNumber, roomCode, useSha512 } from './fingerprint.js';
