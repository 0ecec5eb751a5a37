/**
 * Command output: JSON for machines (`--json`), aligned tables and key/value lines for people.
 * Everything goes to stdout; errors and logs go to stderr.
 */

/** Prints `value` as one JSON document. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Renders rows as left-aligned columns under upper-case headers. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** Prints a table, or `empty` when there are no rows. */
export function printTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, empty = '(none)'): void {
  process.stdout.write(rows.length === 0 ? `${empty}\n` : `${formatTable(headers, rows)}\n`);
}

/** Prints `key  value` lines with the keys aligned. */
export function printFields(fields: ReadonlyArray<readonly [string, string | number]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  process.stdout.write(`${fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
}

/** A short human age, e.g. `3s ago`, for timestamps in ms since the epoch (0 = never). */
export function formatAge(atMs: number, nowMs: number = Date.now()): string {
  if (atMs <= 0) return 'never';
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}
