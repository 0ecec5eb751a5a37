// Type-aware lint: promises that are never awaited or handled, and the layers. `npm run lint`
// shows the architecture: each layer below may import only the layers under it, and only through
// their barrels (index.ts); an arrow back up, or into another layer's internals, is an error.
import tseslint from 'typescript-eslint';

/**
 * The layers, bottom up. `uses` lists the layers a layer may import; `entries` the files of a layer
 * another layer may import (its barrel, and for some a light entry that loads less at start-up).
 */
const LAYERS = {
  errors: { uses: [], entries: ['index'] },
  schema: { uses: ['errors'], entries: ['index', 'units'] },
  plan: { uses: ['errors', 'schema'], entries: ['index'] },
  client: { uses: ['errors', 'schema', 'plan'], entries: ['index', 'transport'] },
  runtime: { uses: ['errors', 'schema', 'plan', 'client'], entries: ['index'] },
  provider: { uses: ['errors', 'schema', 'plan', 'client'], entries: [] },
};

function layerRules(name) {
  const { uses } = LAYERS[name];
  const patterns = [];
  for (const [other, { entries }] of Object.entries(LAYERS)) {
    if (other === name) continue;
    if (!uses.includes(other)) {
      patterns.push({ group: [`**/${other}/**`, `**/${other}`], message: `${name}/ sits below ${other}/ or beside it: it may import only ${uses.join(', ') || 'no other layer'}.` });
      continue;
    }
    patterns.push({
      group: [`**/${other}/**`, ...entries.map((e) => `!**/${other}/${e}.js`)],
      message: `use ${other}/ through ${entries.map((e) => `${other}/${e}.js`).join(' or ')}, not its internals.`,
    });
  }
  return { files: [`${name}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

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
  ...Object.keys(LAYERS).map(layerRules),
);
