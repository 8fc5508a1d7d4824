/**
 * The web client's build: one ES module and one style sheet under `dist/assets/`, referenced
 * relatively from `dist/index.html` so that the bundle works under any secret base path.
 * No inline script or style (the server's Content-Security-Policy forbids them), no module
 * preload polyfill (it would be inline), no source maps (nothing to serve but the app), and a
 * single chunk: `scripts/sri.mjs` then pins each file in index.html by Subresource Integrity.
 */
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: './',
  plugins: [preact({ devtoolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    rolldownOptions: { output: { codeSplitting: false } },
  },
});
