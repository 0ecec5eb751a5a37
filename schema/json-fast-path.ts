/**
 * A fast path for specs sent as JSON (ApplySpec's `spec_json`, `*.json` files). The YAML parser
 * keeps a node and a range for every value, which costs seconds on a 1,000-agent spec; JSON.parse
 * costs milliseconds. Positions are only needed when something is wrong, so the caller parses with
 * JSON.parse first and re-parses as YAML only to place diagnostics.
 */

/**
 * Parses `text` when it is JSON with no repeated key in any object, else returns undefined.
 * JSON.parse keeps the last of two equal keys silently, where the YAML path reports them; counting
 * keys in the text and in the result tells the two apart without a second parser.
 */
export function parseStrictJson(text: string): { value: unknown } | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return countKeysInText(text) === countKeysInValue(value) ? { value } : undefined;
}

/** Object keys in JSON text: strings followed by a colon. One pass, skipping string contents. */
function countKeysInText(text: string): number {
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    let j = i + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\n' || text[j] === '\r' || text[j] === '\t')) j++;
    if (text[j] === ':') keys++;
  }
  return keys;
}

function countKeysInValue(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + countKeysInValue(item), 0);
  if (typeof value === 'object' && value !== null) {
    return Object.values(value).reduce<number>((sum, item) => sum + 1 + countKeysInValue(item), 0);
  }
  return 0;
}
