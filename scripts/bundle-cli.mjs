#!/usr/bin/env node
/**
 * Bundles the compiled command line (packages/cli/dist, from `tsc -b`) into packages/cli/bundle
 * with esbuild: what `safehouse` runs (packages/cli/bin/safehouse.js). Part of `npm run build`.
 *
 * Why: Node loads an ES module graph file by file. The command line, Safehouse's core, MLS,
 * the hash and curve libraries are several hundred files; loading them took about 0.4 s of CPU
 * per process on the machines this was measured on, more than joining a room of 50 itself. A
 * crowd opening one link at once is many processes starting at once, so that cost is paid
 * N times over (`npm run bench -- --membership-only --part crowd`: the crowd of 50 went from
 * 31 s to 14 s, CPU per joiner from 1.09 s to 0.43 s).
 *
 * - Code splitting keeps the lazy `import()`s lazy: `serve` does not load the terminal UI, nor
 *   `join` the relay.
 * - The terminal UI's React and Ink stay outside (they are loaded only for the full-screen UI,
 *   from node_modules as usual).
 * - The bundle lives beside `dist/` (packages/cli/bundle): `serve` finds the web client at
 *   `../../web/dist/` from either.
 * - CommonJS dependencies (`ws`, `commander`) get a `require` from `node:module`.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../packages/cli/', import.meta.url));
const outdir = `${cli}bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${cli}dist/main.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ink', 'ink-*', 'react', 'react/*'],
  banner: { js: "import { createRequire as __safehouseRequire } from 'node:module'; const require = __safehouseRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
