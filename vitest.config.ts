import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import the TypeScript sources directly; the e2e suite runs the built CLI (npm test builds first).
const alias = [
  { find: /^@safehouse\/core\/(protocol|e2ee|roughtime|client)$/, replacement: `${root}packages/core/src/$1/index.ts` },
  { find: /^@safehouse\/server$/, replacement: `${root}packages/server/src/index.ts` },
  { find: /^@safehouse\/cli$/, replacement: `${root}packages/cli/src/index.ts` },
];

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
          // The adversarial model's replay tool runs one given sequence, on request (`npm run model`).
          exclude: process.env.SAFEHOUSE_MODEL ? configDefaults.exclude : [...configDefaults.exclude, 'packages/cli/src/model/replay.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // The relay conformance suite against a cluster: two relays sharing one real Redis
        // (testing/harness.ts), clients spread over both. The same files run against one relay in `unit`.
        resolve: { alias },
        test: {
          name: 'cluster',
          include: ['packages/server/src/relay-*.test.ts'],
          env: { SAFEHOUSE_RELAY_ENGINE: 'redis' },
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
