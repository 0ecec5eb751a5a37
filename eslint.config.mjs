// Type-aware lint: promises that are never awaited or handled, the layers and the wire's edge.
// `npm run lint` shows the architecture: each layer below may import only the layers under it, and
// only through their barrels (index.ts); an arrow back up, or into another layer's internals, is an
// error; and only the WIRE_EDGES files may import the generated code.
import tseslint from 'typescript-eslint';

/**
 * The layers, bottom up. `uses` lists the layers a layer may import; `entries` the files of a layer
 * another layer may import (its barrel, and for some a light entry that loads less at start-up).
 */
const LAYERS = {
  errors: { uses: [], entries: ['index'] },
  schema: { uses: ['errors'], entries: ['index', 'units'] },
  plan: { uses: ['errors', 'schema'], entries: ['index'] },
  // master-address: the default address alone, for verbs that never dial (transport loads grpc-js).
  client: { uses: ['errors', 'schema', 'plan'], entries: ['index', 'transport', 'master-address'] },
  runtime: { uses: ['errors', 'schema', 'plan', 'client'], entries: ['index'] },
  provider: { uses: ['errors', 'schema', 'plan', 'client'], entries: [] },
};

/**
 * The wire's edge: the only files of runtime/, provider/ and client/ that may import the generated
 * code (proto/gen). Each converts between generated types and domain types
 * (runtime/common/grid-types.ts, the event library's, the storage store's); past them, the daemons
 * see no generated type.
 */
const WIRE_EDGES = [
  'runtime/common/grid-wire.ts', // nodes, agents, policy, heartbeats, node events <-> grid.proto / agent.proto
  'runtime/master/handlers/**', // the GridMaster service
  'runtime/master/agent-connection.ts', // the master's calls to its agents (GridAgent client)
  'runtime/master/event-mirror-client.ts', // the master's StorageService client for its event mirror
  'runtime/agent/agent-service.ts', // the GridAgent service
  'runtime/agent/master-connection.ts', // the agent's calls to its master (GridMaster client)
  'runtime/agent/node-control.ts', // the agent's calls to its nodes' StorageControl
  'runtime/events/event-wire.ts', // events <-> Event, ListEvents, WatchEvents, ReportNodeEvents
  'runtime/events/storage-mirror-wire.ts', // the event mirror's StorageService calls
  'runtime/storage/storage-service.ts', // the StorageService, StorageControl, StorageReplication services
  'runtime/storage/control-handlers.ts', // StorageControl and StorageReplication requests <-> the node
  'runtime/storage/replication-source.ts', // the leader's end of the Replicate stream
  'runtime/storage/replica-follower.ts', // the replica's end of the Replicate stream (a StorageReplication client)
  'client/master-client.ts', // the client layer's GridMaster calls
  'client/plan-wire.ts', // plans <-> Plan messages
  'client/node-wire.ts', // nodes, agents, cluster status <-> grid.proto
  'client/security-client.ts', // the GridSecurity calls: join, renew, tokens, revocation (issue 14)
];

/** Everywhere else in the daemons, front-ends and client layer, generated code is out of reach. */
const wireRule = {
  files: ['runtime/**/*.ts', 'provider/**/*.ts', 'client/**/*.ts'],
  ignores: WIRE_EDGES,
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: [{ group: ['**/proto/gen/**'], message: 'generated wire types stay at the edge: convert in a WIRE_EDGES file (e.g. runtime/common/grid-wire.ts) and use domain types here.' }] },
    ],
  },
};

/**
 * Inside runtime/, the HTTP front-end sits above the master: it uses the master through its barrel,
 * and the master never imports it (the entry points inject it, see MasterDeps.http). Only the
 * entry points (runtime/cli) load it.
 */
const RUNTIME_PARTS = [
  {
    files: ['runtime/master/**/*.ts', 'runtime/events/**/*.ts', 'runtime/agent/**/*.ts', 'runtime/common/**/*.ts', 'runtime/storage/**/*.ts'],
    patterns: [{ group: ['**/http/**'], message: 'runtime/http sits above the daemons: the entry point injects it (MasterDeps.http); do not import it here.' }],
  },
  {
    files: ['runtime/http/**/*.ts'],
    patterns: [
      { group: ['**/master/**', '!**/master/index.js'], message: 'use runtime/master through its barrel (master/index.js).' },
      { group: ['**/cli/**'], message: 'runtime/cli is the entry point above runtime/http.' },
    ],
  },
];

function layerRules(name) {
  const base = layerPatterns(name);
  const rules = [{ files: [`${name}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns: base }] } }];
  // A later config object replaces a rule's options: each part repeats its layer's patterns.
  for (const part of RUNTIME_PARTS) {
    if (name === 'runtime') rules.push({ files: part.files, rules: { 'no-restricted-imports': ['error', { patterns: [...base, ...part.patterns] }] } });
  }
  return rules;
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
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', 'schema/*.generated.ts', '**/*.mjs', '**/*.js', 'vitest.config.ts'] },
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
  ...Object.keys(LAYERS).flatMap(layerRules),
  wireRule,
);
