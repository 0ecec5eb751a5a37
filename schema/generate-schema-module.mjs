#!/usr/bin/env node
// Regenerates schema/grid-schema.generated.ts from schema/grid.schema.json, the single source of
// truth. The TypeScript copy exists because `FromSchema` needs the schema as a literal `as const`
// type, which a JSON import cannot give. test/schema/schema-sync.test.ts fails when they diverge.
// Usage: node schema/generate-schema-module.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(readFileSync(join(here, 'grid.schema.json'), 'utf8'));
const out = `// DO NOT EDIT: generated from schema/grid.schema.json by schema/generate-schema-module.mjs.
// Edit the JSON file, then run \`node schema/generate-schema-module.mjs\`.

/** The grid spec JSON Schema (2020-12), as a literal type so the TypeScript types derive from it. */
export const gridSchema = ${JSON.stringify(schema, null, 2)} as const;
`;
writeFileSync(join(here, 'grid-schema.generated.ts'), out);
