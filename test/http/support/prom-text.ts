/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line must be
 * a HELP, a TYPE or a sample of the family declared last; names, labels, escapes and values are
 * checked; a series may not repeat; a histogram's buckets must be cumulative and end with `+Inf`
 * equal to its `_count`. Anything else throws with the line number.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `a="x",b="y\"z"` -> labels; throws on anything malformed. */
function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "=" in {${text}}`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label ${name} value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[j + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape \\${n ?? ''} in label ${name}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`line ${line}: expected "," after label ${name}`);
      i++;
    }
  }
  return labels;
}

/** Which family a sample name belongs to, given the family's type. */
function belongs(sample: string, family: Family): boolean {
  if (sample === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  if (family.type === 'summary') return [`${family.name}_sum`, `${family.name}_count`].includes(sample);
  return false;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  const counts = new Map<string, number>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    } else if (s.name.endsWith('_count')) counts.set(key, s.value);
  }
  for (const [key, buckets] of groups) {
    let previous = -Infinity;
    let previousCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels['le']!, 0);
      if (!(le > previous)) throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < previousCount) throw new Error(`${f.name}${key}: bucket counts not cumulative`);
      previous = le;
      previousCount = b.value;
    }
    if (previous !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== previousCount) throw new Error(`${f.name}${key}: +Inf bucket ${previousCount} != _count ${counts.get(key)}`);
  }
}

/** Parses an exposition into its families by name. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const helps = new Map<string, string>();
  let current: Family | undefined;
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${JSON.stringify(name)}`);
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`line ${line}: second HELP for ${name}`);
        helps.set(name, rest);
        return;
      }
      if (!TYPES.has(rest as MetricType)) throw new Error(`line ${line}: bad type ${JSON.stringify(rest)}`);
      if (families.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
      current = { name, type: rest as MetricType, help: helps.get(name) ?? '', samples: [] };
      families.set(name, current);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (m === null) throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw)}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    if (current === undefined || !belongs(name, current)) throw new Error(`line ${line}: sample ${name} outside its family's TYPE`);
    const labels = parseLabels(labelText ?? '', line);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${line}: series ${key} twice`);
    series.add(key);
    const value = parseValue(valueText, line);
    if (current.type === 'counter' && !(value >= 0)) throw new Error(`line ${line}: counter ${name} is ${value}`);
    current.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/**
 * The value of the sample `name` whose labels include `labels`, summed over the rest; 0 when no
 * sample matches (a series that does not exist yet).
 */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
