#!/usr/bin/env node
// The `safehouse` command: runs the bundled CLI (built by `npm ci` / `npm run build`:
// tsc, then scripts/bundle-cli.mjs).
import('../bundle/main.js').then(
  (m) => m.main(process.argv),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/bundle/main.js')) {
      process.stderr.write('safehouse: the command line is not built yet; run `npm ci` (or `npm run build`) in the repository first.\n');
      process.exit(1);
    }
    throw err;
  },
);
