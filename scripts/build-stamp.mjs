#!/usr/bin/env node
/**
 * So that `npm ci && npm test` (and CI, .ci/run) builds once: `npm ci` builds (the root
 * `prepare` script), and `npm test` then builds again only if a source changed since.
 *
 *   node scripts/build-stamp.mjs write   the last step of `npm run build`: records a hash of the sources
 *   node scripts/build-stamp.mjs check   exit 0 if the build is of exactly these sources and is all there
 *
 * The hash covers every file a build reads: the four packages (but their build output and
 * node_modules), the root package.json, lock file and tsconfig, the bundling script, and the
 * dependency patches. The stamp lives in packages/cli/bundle/, which the build empties first, so
 * a build that fails part-way leaves none. `npm run build` itself always builds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(root, 'packages/cli/bundle/.build-stamp');
const INPUTS = [
  'packages/core',
  'packages/server',
  'packages/cli',
  'packages/web',
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'scripts/bundle-cli.mjs',
  'scripts/patch-deps.mjs',
  'patches',
];
/** Build output and installed packages: not sources. */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'bundle']);
/** What a complete build leaves (`npm run build`). */
const OUTPUTS = [
  'packages/core/dist/client/index.js',
  'packages/server/dist/index.js',
  'packages/cli/dist/main.js',
  'packages/cli/bundle/main.js',
  'packages/web/dist/index.html',
];

/** The files at `path` (a file, or a folder walked in full but for SKIP_DIRS), relative to the root. */
function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : files(join(path, e.name));
    return e.isFile() && !e.name.endsWith('.tsbuildinfo') ? [join(path, e.name)] : [];
  });
}

function sourcesHash() {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap(files).sort()) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

const mode = process.argv[2];
if (mode === 'write') {
  writeFileSync(STAMP, `${sourcesHash()}\n`);
} else if (mode === 'check') {
  const missing = OUTPUTS.filter((o) => !existsSync(join(root, o)));
  const stamp = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  if (missing.length === 0 && stamp !== '' && stamp === sourcesHash()) {
    console.log(`build: up to date with the sources (${relative(root, STAMP)}), not built again`);
    process.exit(0);
  }
  process.exit(1);
} else {
  console.error('usage: node scripts/build-stamp.mjs write|check');
  process.exit(2);
}
