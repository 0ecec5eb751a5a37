// Type-aware lint: promises that are never awaited or handled, and imports that reach into another
// layer's internals (a layer is used only through its index.ts barrel).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', 'schema/grid-schema.generated.ts', '**/*.mjs', '**/*.js', 'vitest.config.ts'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  // Layers, bottom up: schema (the spec) -> provider/plan (the pure plan engine) -> runtime (the
  // daemons and the CLI) and the infrastructure-as-code front-ends. Lower layers never import upper
  // ones; another layer is reached only through its index.ts barrel.
  {
    files: ['schema/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/runtime/**', '**/provider/**'], message: 'schema/ is the bottom layer: it imports no other layer.' }] }] },
  },
  {
    files: ['provider/plan/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/runtime/**', '**/pulumi/**', '**/kubernetes/**', '**/cdktf/**'], message: 'the plan engine sits below the daemons and the front-ends.' },
        { group: ['**/schema/*', '!**/schema/index.js'], message: 'use the schema layer through schema/index.js.' },
      ] }],
    },
  },
  {
    files: ['provider/pulumi/**/*.ts', 'provider/kubernetes/**/*.ts', 'provider/cdktf/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/runtime/*/**', '**/runtime/*.js', '!**/runtime/index.js'], message: 'front-ends use the runtime only through runtime/index.js.' },
        { group: ['**/plan/*', '!**/plan/index.js'], message: 'use the plan engine through provider/plan/index.js.' },
        { group: ['**/schema/*', '!**/schema/index.js'], message: 'use the schema layer through schema/index.js.' },
      ] }],
    },
  },
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/pulumi/**', '**/kubernetes/**', '**/cdktf/**'], message: 'the daemons never import an infrastructure-as-code front-end.' },
        { group: ['**/provider/plan/*', '!**/provider/plan/index.js'], message: 'use the plan engine through provider/plan/index.js.' },
        // units.js is the schema layer's light entry: the agent parses durations without loading
        // the schema compiler (ajv) at start-up.
        { group: ['**/schema/*', '!**/schema/index.js', '!**/schema/units.js'], message: 'use the schema layer through schema/index.js.' },
      ] }],
    },
  },
);
