/**
 * What the build emits, and what each package would publish, holds no tests, test helpers
 * (`testing/`) or sources: tests import those from src (vitest.config.ts), never from a build.
 * Runs after `npm run build`, like the rest of the e2e suite.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Each published package and the folders its build writes. */
const PACKAGES = [
  { name: '@safehouse/core', dir: 'packages/core', built: ['dist'] },
  { name: '@safehouse/server', dir: 'packages/server', built: ['dist'] },
  { name: '@safehouse/cli', dir: 'packages/cli', built: ['dist', 'bundle'] },
  { name: '@safehouse/web', dir: 'packages/web', built: ['dist'] },
] as const;

/** A test, or anything under a `testing/` folder. */
const TEST_ONLY = /(^|\/)testing\/|\.test\.[^/]*$/;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The file targets of `exports` (but `source`, which names src for tools in the repository) and `bin`. */
function entryPoints(pkg: { exports?: unknown; bin?: unknown }): string[] {
  const out: string[] = [];
  const walk = (x: unknown, key: string): void => {
    if (typeof x === 'string') {
      if (key !== 'source') out.push(x);
    } else if (x !== null && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, k);
  };
  walk(pkg.exports, '');
  walk(pkg.bin, '');
  return out.map((p) => p.replace(/^\.\//, ''));
}

describe('the published build', () => {
  for (const p of PACKAGES) {
    it(`${p.name}: its build output holds no tests and no testing/ helpers`, () => {
      const built = p.built.flatMap((b) => filesUnder(join(ROOT, p.dir, b)).map((f) => `${b}/${f}`));
      expect(built.length, `${p.dir}: run \`npm run build\` first`).toBeGreaterThan(0);
      expect(built.filter((f) => TEST_ONLY.test(f))).toEqual([]);
    });
  }

  it('npm pack of each package takes its build (every entry point) and no source, test or helper', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts', ...PACKAGES.flatMap((p) => ['-w', p.name])],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const packs = JSON.parse(stdout) as { name: string; files: { path: string }[] }[];
    for (const p of PACKAGES) {
      const files = packs.find((x) => x.name === p.name)?.files.map((f) => f.path);
      expect(files, p.name).toBeDefined();
      const list = files ?? [];
      expect(list.filter((f) => TEST_ONLY.test(f) || f.startsWith('src/')), p.name).toEqual([]);
      const pkg = JSON.parse(readFileSync(join(ROOT, p.dir, 'package.json'), 'utf8')) as { exports?: unknown; bin?: unknown };
      expect(entryPoints(pkg).filter((e) => !list.includes(e)), `${p.name}: entry points missing from the package`).toEqual([]);
    }
  });
});
