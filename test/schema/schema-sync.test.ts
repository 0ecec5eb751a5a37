import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { gridSchema } from '../../schema/index.js';
import { validate as generatedAll } from '../../schema/grid-validate-all.generated.js';
import { validate as generatedFirst } from '../../schema/grid-validate-first.generated.js';
import { baseSpecs, mutants } from './spec-mutants.js';

type SchemaNode = Record<string, unknown>;

async function jsonSchema(): Promise<SchemaNode> {
  return JSON.parse(await readFile('schema/grid.schema.json', 'utf8')) as SchemaNode;
}

/** Every object schema in the tree, with its path, resolving nothing (refs are checked where defined). */
function objectSchemas(node: unknown, path: string, out: Array<[string, SchemaNode]> = []): Array<[string, SchemaNode]> {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return out;
  const schema = node as SchemaNode;
  if (schema.type === 'object') out.push([path, schema]);
  for (const [key, child] of Object.entries(schema)) {
    if (key === 'properties' || key === '$defs') {
      for (const [name, sub] of Object.entries(child as SchemaNode)) objectSchemas(sub, `${path}/${key}/${name}`, out);
    } else if (key === 'items' || key === 'additionalProperties') {
      objectSchemas(child, `${path}/${key}`, out);
    }
  }
  return out;
}

describe('grid.schema.json', () => {
  test('the generated TypeScript copy is identical (run node schema/generate-schema-module.mjs)', async () => {
    expect(gridSchema).toEqual(await jsonSchema());
  });

  test('the generated validators are what ajv compiles from it now (run node schema/generate-schema-module.mjs)', () => {
    const check = spawnSync(process.execPath, ['schema/generate-schema-module.mjs', '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('the generated validators judge specs as ajv compiling the schema at run time does: result, defaults, errors', () => {
    type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
    const options = { strict: true, allowUnionTypes: true, useDefaults: true, verbose: true } as const;
    const pairs: Array<[Validator, Validator]> = [
      [generatedAll as unknown as Validator, new Ajv2020({ ...options, allErrors: true }).compile(gridSchema)],
      [generatedFirst as unknown as Validator, new Ajv2020({ ...options, allErrors: false }).compile(gridSchema)],
    ];
    const shape = (e: ErrorObject): unknown => [e.instancePath, e.schemaPath, e.keyword, e.params, e.message, e.data];
    const specs: unknown[] = baseSpecs().map((b) => parse(b.text) as unknown);
    for (const m of mutants(17, 400)) {
      // Multi-megabyte mutants and alias bombs are the parser's limits' business (spec-limits.test.ts).
      if (m.text.length > 20_000 || m.text.includes('*')) continue;
      try {
        specs.push(parse(m.text));
      } catch {
        // Not YAML: nothing reaches the validator.
      }
    }
    // Lengths count code points (ajv's ucs2length, which the generated modules import themselves).
    specs.push({ name: '🙂'.repeat(40), agents: [] }, { name: '🙂'.repeat(70), agents: [] });
    let invalid = 0;
    for (const spec of specs) {
      for (const [generated, compiled] of pairs) {
        const a = structuredClone(spec);
        const b = structuredClone(spec);
        const ok = generated(a);
        expect(ok).toBe(compiled(b));
        expect(a).toEqual(b);
        expect((generated.errors ?? []).map(shape)).toEqual((compiled.errors ?? []).map(shape));
        if (!ok) invalid++;
      }
    }
    // Both kinds of outcome were compared, not only one.
    expect(invalid).toBeGreaterThan(50);
    expect(invalid).toBeLessThan(specs.length * 2);
  });

  test('is JSON Schema 2020-12', async () => {
    expect((await jsonSchema()).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  test('every fixed-shape object refuses unknown keys', async () => {
    const objects = objectSchemas(await jsonSchema(), '#');
    expect(objects.length).toBeGreaterThan(8);
    for (const [path, schema] of objects) {
      // Label maps are open by design: their values are constrained instead.
      if (path.endsWith('$defs/labels')) expect(schema.additionalProperties).toMatchObject({ type: 'string' });
      else expect({ path, additionalProperties: schema.additionalProperties }).toEqual({ path, additionalProperties: false });
    }
  });

  test('every property is described, and every optional one has a default or says what omitting it means', async () => {
    for (const [path, schema] of objectSchemas(await jsonSchema(), '#')) {
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries((schema.properties as Record<string, SchemaNode> | undefined) ?? {})) {
        const where = `${path}/properties/${name}`;
        expect(typeof property.description, where).toBe('string');
        if (!required.has(name)) {
          const explained = 'default' in property || /Omitted: /.test(String(property.description));
          expect(explained, `${where} needs a default or "Omitted: ..."`).toBe(true);
        }
      }
    }
  });
});
