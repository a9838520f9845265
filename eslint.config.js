// Type-aware lint of the sources, tests and benchmarks (never of build output).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/components: bundles shaped like third-party components, not written in our style.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'artifacts/**',
      'data/**',
      'eslint.config.js',
      'test/components/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment only in src/config/.' },
      ],
    },
  },
  {
    files: [
      'src/config/**',
      'test/**',
      'bench/**',
      'scripts/**',
      'vitest.config.ts',
      'vitest.clickhouse.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);
