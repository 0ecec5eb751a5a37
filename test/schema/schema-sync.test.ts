import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { gridSchema } from '../../schema/index.js';

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
