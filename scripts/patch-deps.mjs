#!/usr/bin/env node
/**
 * Applies the fixes in `patches/` to installed dependencies. Runs as the root `postinstall`
 * (npm runs the root package's own scripts on `npm ci`; dependencies' scripts do not run here).
 *
 * `patches/<name>+<version>.patch` (scoped: `@scope+name+<version>.patch`) is a unified diff
 * whose paths are `a/node_modules/<name>/...` and `b/node_modules/<name>/...` (the layout
 * patch-package uses, so `git apply` and `patch -p1` from the repository root work too).
 *
 * For each patch and each installed copy of its package:
 * - the installed version must be exactly <version>, else it refuses: a patch made for one
 *   release says nothing about another;
 * - every hunk must match its stated lines exactly (no fuzz, no offset): then the patch is
 *   applied, or, if every hunk's result is already there, it is left alone (idempotent);
 * - anything else (a file changed some other way, half applied) is refused, changing nothing.
 * Exit status 0 when every patch is in place, 1 otherwise. No dependencies: Node built-ins only.
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const patchesDir = join(root, 'patches');

class PatchError extends Error {}

/** `ts-mls+1.6.4.patch` → { name: 'ts-mls', version: '1.6.4' }; `@a+b+1.0.0.patch` → '@a/b'. */
function parsePatchName(file) {
  const m = /^(.+)\+([^+]+)\.patch$/.exec(file);
  if (!m) throw new PatchError(`${file}: expected a name like <package>+<version>.patch`);
  return { name: m[1].replace(/\+/g, '/'), version: m[2] };
}

/** Parses a unified diff into files and hunks; text before the first `--- ` line is commentary. */
function parseDiff(text, file) {
  const lines = text.split('\n');
  const files = [];
  let i = 0;
  const bad = (why) => new PatchError(`${file}, line ${i + 1}: ${why}`);
  while (i < lines.length) {
    if (!lines[i].startsWith('--- ')) {
      i++;
      continue;
    }
    const from = lines[i].slice(4).split('\t')[0];
    const to = (lines[i + 1] ?? '').startsWith('+++ ') ? lines[i + 1].slice(4).split('\t')[0] : undefined;
    if (!from.startsWith('a/') || to === undefined || to !== `b/${from.slice(2)}`)
      throw bad('expected "--- a/<path>" followed by "+++ b/<same path>"');
    const path = from.slice(2);
    if (path.split('/').some((s) => s === '..' || s === '')) throw bad(`refusing path ${path}`);
    i += 2;
    const hunks = [];
    while (i < lines.length && lines[i].startsWith('@@ ')) {
      const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]);
      if (!h) throw bad('malformed hunk header');
      const oldCount = h[2] === undefined ? 1 : Number(h[2]);
      const newCount = h[4] === undefined ? 1 : Number(h[4]);
      // Line numbers are 1-based; a side with no lines names the line *after which* it sits.
      const hunk = {
        oldStart: oldCount === 0 ? Number(h[1]) : Number(h[1]) - 1,
        newStart: newCount === 0 ? Number(h[3]) : Number(h[3]) - 1,
        oldLines: [],
        newLines: [],
      };
      i++;
      while (hunk.oldLines.length < oldCount || hunk.newLines.length < newCount) {
        const l = lines[i];
        if (l === undefined) throw bad('hunk ends early');
        if (l.startsWith('\\')) throw bad('"\\ No newline at end of file" is not supported');
        const body = l.slice(1);
        if (l.startsWith(' ') || l === '') {
          hunk.oldLines.push(body);
          hunk.newLines.push(body);
        } else if (l.startsWith('-')) hunk.oldLines.push(body);
        else if (l.startsWith('+')) hunk.newLines.push(body);
        else throw bad('unexpected line inside a hunk');
        i++;
      }
      if (hunk.oldLines.length !== oldCount || hunk.newLines.length !== newCount)
        throw bad('hunk line counts do not match its header');
      hunks.push(hunk);
    }
    if (hunks.length === 0) throw bad(`no hunks for ${path}`);
    files.push({ path, hunks });
  }
  if (files.length === 0) throw new PatchError(`${file}: no file changes found`);
  return files;
}

function matchesAt(lines, start, expected) {
  return start + expected.length <= lines.length && expected.every((l, k) => lines[start + k] === l);
}

/**
 * Works out what one file needs: { status: 'apply', text } or { status: 'already applied' }.
 * Throws PatchError if neither fits. Writes nothing.
 */
function planFile(target, hunks, label) {
  if (!existsSync(target)) throw new PatchError(`${label}: ${target} does not exist`);
  const lines = readFileSync(target, 'utf8').split('\n');
  const original = hunks.every((h) => matchesAt(lines, h.oldStart, h.oldLines));
  const patched = hunks.every((h) => matchesAt(lines, h.newStart, h.newLines));
  if (patched && !original) return { target, status: 'already applied' };
  if (!original)
    throw new PatchError(
      `${label}: does not apply cleanly to ${target} (the file differs from the release the patch was made for, or is partly patched); nothing was changed`,
    );
  // Last hunk first, so earlier line numbers stay valid.
  for (const h of [...hunks].sort((a, b) => b.oldStart - a.oldStart))
    lines.splice(h.oldStart, h.oldLines.length, ...h.newLines);
  return { target, status: 'applied', text: lines.join('\n') };
}

/** Replaces the file in one step (write beside it, then rename over it). */
function writeFile(target, text) {
  const tmp = `${target}.patch-deps.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, target);
}

/** Installed copies of `name`: hoisted at the root, or nested under a workspace. */
function installedCopies(name) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dirs = [root, ...(pkg.workspaces ?? []).map((w) => join(root, w))];
  return dirs
    .map((d) => join(d, 'node_modules', ...name.split('/')))
    .filter((d) => existsSync(join(d, 'package.json')));
}

function applyPatch(file) {
  const { name, version } = parsePatchName(file);
  const label = `patches/${file}`;
  const files = parseDiff(readFileSync(join(patchesDir, file), 'utf8'), label);
  const prefix = `node_modules/${name}/`;
  for (const f of files)
    if (!f.path.startsWith(prefix)) throw new PatchError(`${label}: ${f.path} is not inside ${prefix}`);
  const copies = installedCopies(name);
  if (copies.length === 0) throw new PatchError(`${label}: ${name} is not installed (run npm ci)`);
  for (const dir of copies) {
    const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    if (installed !== version)
      throw new PatchError(
        `${label} is for ${name} ${version}, but ${dir} holds ${installed}: check whether ${installed} still needs the fix, then remake the patch for it or delete it`,
      );
    // Every file is checked before any is written, so a refusal leaves the package untouched.
    const plans = files.map((f) => planFile(join(dir, ...f.path.slice(prefix.length).split('/')), f.hunks, label));
    for (const p of plans) if (p.text !== undefined) writeFile(p.target, p.text);
    const results = plans.map((p) => p.status);
    const where = dir
      .slice(root.length + 1)
      .split(sep)
      .join('/');
    console.log(`patch-deps: ${name}@${version} (${where}): ${[...new Set(results)].join(', ')} (${label})`);
  }
}

const patchFiles = existsSync(patchesDir)
  ? readdirSync(patchesDir)
      .filter((f) => f.endsWith('.patch'))
      .sort()
  : [];
let failed = false;
for (const file of patchFiles) {
  try {
    applyPatch(file);
  } catch (e) {
    if (!(e instanceof PatchError)) throw e;
    console.error(`patch-deps: ${e.message}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
