#!/usr/bin/env node
// Regenerates, from schema/grid.schema.json (the single source of truth):
// - schema/grid-schema.generated.ts, the schema as a TypeScript literal: `FromSchema` needs it as an
//   `as const` type, which a JSON import cannot give;
// - schema/grid-validate-all.generated.ts and grid-validate-first.generated.ts, ajv's validation
//   code for the schema (every error; the first error only, for specs past
//   SPEC_LIMITS.maxFullCheckBytes), written at build time with ajv's standalone code generation.
//   Compiling the schema was ~75 ms of every process that parses a spec: 40% of a
//   `sutra-grid validate`, and the master's first apply (issue 17).
// test/schema/schema-sync.test.ts fails when any of them diverges (it runs this with --check).
// Usage: node schema/generate-schema-module.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(readFileSync(join(here, 'grid.schema.json'), 'utf8'));
const HEADER = `// DO NOT EDIT: generated from schema/grid.schema.json by schema/generate-schema-module.mjs.
// Edit the JSON file, then run \`node schema/generate-schema-module.mjs\`.
`;

/**
 * The options schema/schema-check.ts validates with; `code` only makes ajv keep the source.
 * useDefaults: defaults come from the schema itself, so they are written once; applied to a copy.
 */
function validatorModule(allErrors) {
  const ajv = new Ajv2020({ allErrors, strict: true, allowUnionTypes: true, useDefaults: true, verbose: true, code: { source: true, esm: true } });
  let code = standaloneCode(ajv, ajv.compile(schema));
  // ajv's ES module output still require()s its runtime helper for string lengths in code points,
  // which an ES module has not got: imported instead. Any other require() is new and fails here.
  const helper = 'require("ajv/dist/runtime/ucs2length").default';
  if (!code.includes(helper)) throw new Error(`generate-schema-module: ajv no longer writes ${helper}`);
  code = code.replaceAll(helper, 'ucs2length');
  if (/\brequire\(/.test(code)) throw new Error(`generate-schema-module: ajv's code requires ${/require\([^)]*\)/.exec(code)[0]}`);
  return `${HEADER}// @ts-nocheck: ajv's generated JavaScript; schema/schema-check.ts gives it its type.
import ucs2lengthModule from 'ajv/dist/runtime/ucs2length.js';
// A CommonJS module with an \`exports.default\`: Node's ES module loader gives its exports object,
// bundlers and vitest its default export itself.
const ucs2length = typeof ucs2lengthModule === 'function' ? ucs2lengthModule : ucs2lengthModule.default;
${code}
`;
}

const files = {
  'grid-schema.generated.ts': `${HEADER}
/** The grid spec JSON Schema (2020-12), as a literal type so the TypeScript types derive from it. */
export const gridSchema = ${JSON.stringify(schema, null, 2)} as const;
`,
  'grid-validate-all.generated.ts': validatorModule(true),
  'grid-validate-first.generated.ts': validatorModule(false),
};

if (process.argv.includes('--check')) {
  const stale = Object.entries(files).filter(([name, text]) => readFileSync(join(here, name), 'utf8') !== text).map(([name]) => name);
  if (stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')} (run node schema/generate-schema-module.mjs)\n`);
    process.exit(1);
  }
} else {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(here, name), text);
}
