/**
 * The few globals that `core` may use: those that exist alike in browsers and in Node ≥ 20.
 * `core` compiles without DOM and Node types (tsconfig `lib: ES2022`, `types: []`), so
 * anything not declared here is out of reach, and an import of `node:*` or a DOM API fails
 * to compile. Declare a global here only when both environments provide it.
 */
interface CryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { name: string };
  readonly usages: string[];
}
interface CryptoKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}
type SafehouseBufferSource = ArrayBufferView | ArrayBuffer;
interface SubtleCrypto {
  digest(algorithm: string | { name: string }, data: SafehouseBufferSource): Promise<ArrayBuffer>;
  importKey(
    format: 'raw' | 'pkcs8' | 'spki' | 'jwk',
    keyData: SafehouseBufferSource | object,
    algorithm: string | { name: string; [k: string]: unknown },
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>;
  exportKey(format: 'raw' | 'pkcs8' | 'spki', key: CryptoKey): Promise<ArrayBuffer>;
  generateKey(
    algorithm: string | { name: string; [k: string]: unknown },
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKeyPair | CryptoKey>;
  sign(algorithm: string | { name: string; [k: string]: unknown }, key: CryptoKey, data: SafehouseBufferSource): Promise<ArrayBuffer>;
  verify(
    algorithm: string | { name: string; [k: string]: unknown },
    key: CryptoKey,
    signature: SafehouseBufferSource,
    data: SafehouseBufferSource,
  ): Promise<boolean>;
  encrypt(algorithm: { name: string; [k: string]: unknown }, key: CryptoKey, data: SafehouseBufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: string; [k: string]: unknown }, key: CryptoKey, data: SafehouseBufferSource): Promise<ArrayBuffer>;
  deriveBits(algorithm: { name: string; [k: string]: unknown }, key: CryptoKey, length: number): Promise<ArrayBuffer>;
}
declare var crypto: {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  randomUUID(): string;
  readonly subtle: SubtleCrypto;
};
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;
declare function queueMicrotask(callback: () => void): void;
declare function btoa(data: string): string;
declare function atob(data: string): string;
declare var performance: { now(): number };
