import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.ci/results.json', '**/dist/**', 'packages/cli/bundle/**', '**/node_modules/**', 'bench/results/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='innerHTML']", message: 'Never write peer data as markup.' }],
    },
  },
  {
    // Plain JavaScript launchers and CI scripts: Node globals, no type information.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    // core runs in browsers and in Node: no runtime-specific imports (the compiler checks globals).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', '/ws', '/fs', '/net', '/crypto', '/path'], message: 'core must stay environment-neutral.' }] }],
    },
  },
  {
    // The relay never links client key code: it imports core/protocol only.
    files: ['packages/server/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@safehouse/core/e2ee', '@safehouse/core/client', '@safehouse/cli'], message: 'The server imports @safehouse/core/protocol only.' }] }],
    },
  },
  {
    // The web client renders peer data as text nodes only (THREATS D.24): no markup sinks at all.
    files: ['packages/web/src/**/*.ts', 'packages/web/src/**/*.tsx'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name=/^(innerHTML|outerHTML)$/]", message: 'Never write peer data as markup.' },
        { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'Never write peer data as markup.' },
        { selector: "CallExpression[callee.property.name=/^(insertAdjacentHTML|write|writeln|createContextualFragment)$/]", message: 'Never write peer data as markup.' },
        { selector: "CallExpression[callee.property.name='setItem']", message: 'The web client stores nothing (THREATS: a seized device).' },
      ],
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'ws', 'fs', 'net', 'crypto', 'path'], message: 'The web client runs in browsers.' }] }],
      'no-console': 'error', // never log message text, keys or names: the page logs nothing
      'no-restricted-globals': ['error', { name: 'localStorage', message: 'The web client stores nothing.' }, { name: 'sessionStorage', message: 'The web client stores nothing.' }, { name: 'indexedDB', message: 'The web client stores nothing.' }, { name: 'eval', message: 'No eval (CSP forbids it).' }],
    },
  },
  {
    // The web's tests run in Node against the real relay, with `ws` as the page's WebSocket.
    files: ['packages/web/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
