// Lint configuration: typescript-eslint's type-aware recommended rules over src/, test/ and bench/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', '.cache/**', 'native/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // One private-member style: the TypeScript modifier, not #fields.
      'no-restricted-syntax': [
        'error',
        { selector: 'PrivateIdentifier', message: 'use the private modifier, not #private (one style)' },
      ],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/test/**', '**/bench/**'],
              message: 'shipped code must not import tests, the lab or benchmarks',
            },
          ],
        },
      ],
    },
  },
  {
    // The command line sits on top: it parses flags into each service's own options type, and
    // nothing else in src/ imports it. Shipped code never imports the tests or the lab.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli', '**/cli/**'],
              message: 'only src/cli/ may import src/cli/: take a type from the service instead',
            },
            {
              group: ['**/test/**', '**/bench/**'],
              message: 'shipped code must not import tests, the lab or benchmarks',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    // Line length: prettier wraps code at 120; comments and other text are held to the same bound.
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
);
