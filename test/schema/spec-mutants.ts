/**
 * Seeded mutants of the example specs for the spec fuzz test (and `npm run fuzz:spec`): byte
 * flips, truncation, duplicated and deleted lines, huge numbers, unicode, alias bombs, deep
 * nesting and multi-megabyte files. The same seed always gives the same mutants.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { prng as random } from '../helpers/prng.js';

/** One mutant: its text and how it was made, to reproduce it. */
export interface Mutant {
  readonly index: number;
  readonly base: string;
  readonly kinds: readonly string[];
  readonly text: string;
}

const EXAMPLES = ['examples/local/grid.yaml', 'examples/labels/grid.yaml', 'examples/kubernetes/grid.yaml', 'examples/cdktf/grid.yaml'];

/** The example specs, as written and as JSON (the form ApplySpec receives). */
export function baseSpecs(): Array<{ name: string; text: string }> {
  const bases: Array<{ name: string; text: string }> = [];
  for (const file of EXAMPLES) {
    const text = readFileSync(file, 'utf8');
    bases.push({ name: file, text });
    bases.push({ name: `${file} as JSON`, text: JSON.stringify(parse(text), null, 2) });
  }
  return bases;
}

const HUGE_NUMBERS = ['100000000', '9007199254740993', '1e308', '-1', '1.5', '0x7fffffff', '.inf', '-0', '99999999999999999999999', 'NaN'];
const UNICODE = ['\u0000', '\uFEFF', '\u202E', '\u200B', '\uD800', '\uDFFF', 'é', '日本', '🙂', '\u2028', '\r', '\t', '\\u0000', '"', "'", '#', '&a', '*a', '!!binary', '%YAML 1.2', '---', '...'];

type Mutation = (text: string, pick: Picker) => string;

interface Picker {
  int(n: number): number;
  of<T>(items: readonly T[]): T;
}

const MUTATIONS: Record<string, Mutation> = {
  byteFlip: (text, p) => {
    if (text.length === 0) return text;
    let out = text;
    for (let n = 1 + p.int(4); n > 0; n--) {
      const at = p.int(out.length);
      out = out.slice(0, at) + String.fromCharCode(out.charCodeAt(at) ^ (1 << p.int(8))) + out.slice(at + 1);
    }
    return out;
  },
  truncate: (text, p) => text.slice(0, p.int(text.length + 1)),
  duplicateLine: (text, p) => {
    const lines = text.split('\n');
    const at = p.int(lines.length);
    lines.splice(at, 0, ...Array<string>(1 + p.int(3)).fill(lines[at] ?? ''));
    return lines.join('\n');
  },
  deleteLine: (text, p) => {
    const lines = text.split('\n');
    lines.splice(p.int(lines.length), 1 + p.int(2));
    return lines.join('\n');
  },
  hugeNumber: (text, p) => {
    const numbers = [...text.matchAll(/\b\d+\b/g)];
    const target = numbers.length > 0 ? p.of(numbers) : undefined;
    if (!target || target.index === undefined) return text;
    return text.slice(0, target.index) + p.of(HUGE_NUMBERS) + text.slice(target.index + target[0].length);
  },
  unicode: (text, p) => {
    const at = p.int(text.length + 1);
    return text.slice(0, at) + p.of(UNICODE).repeat(1 + p.int(3)) + text.slice(at);
  },
  aliasBomb: (text, p) => {
    const levels = 3 + p.int(8);
    const lines = ['x0: &x0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let l = 1; l <= levels; l++) lines.push(`x${l}: &x${l} [${Array(10).fill(`*x${l - 1}`).join(', ')}]`);
    if (p.int(2) === 0) lines.push(...Array.from({ length: 50 + p.int(5_000) }, (_, i) => `k${i}: *x0`));
    return `${text}\n${lines.join('\n')}\n`;
  },
  deepNesting: (text, p) => {
    const depth = 20 + p.int(20_000);
    const at = p.int(text.length + 1);
    const shape = p.int(4);
    const nest =
      shape === 0 ? '['.repeat(depth) + ']'.repeat(p.int(2) * depth)
        : shape === 1 ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
          : shape === 2 ? '- '.repeat(depth) + 'x'
            : Array.from({ length: Math.min(depth, 2_000) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    return text.slice(0, at) + nest + text.slice(at);
  },
  multiMegabyte: (text, p) => {
    const target = (1 + p.int(20)) * 256 * 1024; // 256 KiB to 5 MiB: either side of each size limit
    const shape = p.int(4);
    if (shape === 0) return text + '\n' + '#'.repeat(target);
    if (shape === 1) {
      // Many unknown keys: every one is a problem to report.
      const json = text.trimStart().startsWith('{');
      const count = Math.floor(target / 12);
      const keys = Array.from({ length: count }, (_, i) => (json ? `"u${i}": ${i}` : `u${i}: ${i}`));
      return json ? text.trimEnd().replace(/\}$/, `, ${keys.join(', ')}}`) : `${text}\n${keys.join('\n')}\n`;
    }
    if (shape === 2) return text.replace(/name: ([a-z0-9-]+)/, (_, name: string) => `name: ${name}${'a'.repeat(target)}`);
    // A JSON spec of many agents and clusters: valid-looking, as large as allowed or larger.
    const agents = Math.floor(target / 120);
    return JSON.stringify({
      name: 'big',
      agents: Array.from({ length: agents }, (_, i) => ({ id: `agent-${i}`, platform: 'kubernetes', capacity: { nodes: 30 }, labels: { zone: `z${i % 3}` } })),
      clusters: Array.from({ length: Math.floor(agents / 2) }, (_, i) => ({ name: `c-${i}`, nodes: 5, placement: { selector: { zone: `z${i % 3}` } } })),
    });
  },
};

/** Every mutation kind, for reports. */
export const MUTATION_KINDS = Object.keys(MUTATIONS);

/**
 * `count` mutants from `seed`. Each takes one example and applies one to three mutations; the
 * multi-megabyte kind (slow to build) is picked less often than the others.
 */
export function* mutants(seed: number, count: number): Generator<Mutant> {
  const rand = random(seed);
  const pick: Picker = { int: (n) => Math.floor(rand() * n), of: (items) => items[Math.floor(rand() * items.length)] as never };
  const bases = baseSpecs();
  const cheap = MUTATION_KINDS.filter((k) => k !== 'multiMegabyte');
  for (let index = 0; index < count; index++) {
    const base = pick.of(bases);
    let text = base.text;
    const kinds: string[] = [];
    for (let n = 1 + pick.int(3); n > 0; n--) {
      const kind = pick.int(40) === 0 ? 'multiMegabyte' : pick.of(cheap);
      kinds.push(kind);
      text = (MUTATIONS[kind] as Mutation)(text, pick);
    }
    yield { index, base: base.name, kinds, text };
  }
}
