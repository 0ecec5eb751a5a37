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

/**
 * Generated wire code (proto/gen) stays at the edge: the daemons' gRPC services and the client
 * layer's conversion files. In these places of a layer it may not be imported at all: `files` of
 * `layer`, except the edge files listed.
 */
const WIRE_FREE = [
  { layer: 'client', files: ['client/**/*.ts'], edges: ['client/master-client.ts', 'client/plan-wire.ts', 'client/node-wire.ts'] },
  { layer: 'runtime', files: ['runtime/cli/**/*.ts'], edges: [] },
  { layer: 'provider', files: ['provider/**/*.ts'], edges: [] },
];

const GENERATED = {
  group: ['**/proto/gen/**'],
  message: 'generated wire code stays at the edge: use the domain types of client/ (MasterClient, plan-wire, node-wire), not proto/gen.',
};

function wireFreeRules({ layer, files, edges }) {
  return { files, ignores: edges, rules: { 'no-restricted-imports': ['error', { patterns: [...layerPatterns(layer), GENERATED] }] } };
}

function layerRules(name) {
  return { files: [`${name}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(name) }] } };
}

function layerPatterns(name) {
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
  return patterns;
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
  ...WIRE_FREE.map(wireFreeRules),
);
