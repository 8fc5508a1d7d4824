#!/usr/bin/env node
// The `safehouse` command: runs the compiled CLI (built by `npm ci` / `npm run build`).
import('../dist/main.js').then(
  (m) => m.main(process.argv),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write('safehouse: the command line is not built yet; run `npm ci` (or `npm run build`) in the repository first.\n');
      process.exit(1);
    }
    throw err;
  },
);
