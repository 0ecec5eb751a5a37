/**
 * `parseDocument` with a bound on nesting, checked before any recursive work. yaml's composer
 * recurses once per level, and its CST parser once per collection it closes at a time: 10,000
 * levels overflow the stack, and an overflow near the limit can abort the whole process inside
 * V8 (seen in the master as "RegExpCompiler Allocation failed"). Here the lexemes are fed to the
 * parser one by one, and the parse stops as soon as more collections are open than allowed.
 */
import { Composer, CST, Lexer, Parser, YAMLParseError, isScalar, visit, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';

/** Why a text was refused before it was composed, and where. */
export interface YamlRefusal {
  readonly reason: 'depth' | 'aliases';
  readonly at: number;
}

/** A document, or why and where the text was refused (then nothing was composed). */
export type GuardedYaml = { readonly doc: Document.Parsed; readonly refused?: undefined } | { readonly doc?: undefined; readonly refused: YamlRefusal };

/**
 * Parses the first document of `text` like yaml's `parseDocument`, unless it nests deeper than
 * `maxDepth` or holds more than `maxAliases` aliases: yaml resolves each alias by walking the
 * whole document, so 40,000 of them cost 26 s before its own `maxAliasCount` check ran.
 * @param onNewLine called with the offset of each line start (a yaml LineCounter's addNewLine).
 */
export function parseYamlGuarded(
  text: string,
  maxDepth: number,
  maxAliases: number,
  options: ParseOptions & DocumentOptions & SchemaOptions,
  onNewLine?: (offset: number) => void,
): GuardedYaml {
  const parser = new Parser(onNewLine);
  let refused: YamlRefusal | undefined;
  let aliases = 0;
  function* tokens(): Generator<CST.Token> {
    onNewLine?.(0);
    let atScalar = false;
    for (const lexeme of new Lexer().lex(text)) {
      // The lexeme after a scalar marker is the scalar's text, whatever characters it holds.
      const type: string | null | undefined = atScalar ? undefined : CST.tokenType(lexeme);
      atScalar = type === 'scalar';
      const at = parser.offset;
      if (type === 'alias' && ++aliases > maxAliases) {
        refused = { reason: 'aliases', at };
        return;
      }
      yield* parser.next(lexeme);
      // The parser's stack holds every collection still open: the nesting the composer will
      // recurse through, and the parser itself when it closes them all at once.
      if (parser.stack.length > maxDepth) {
        refused = { reason: 'depth', at };
        return;
      }
    }
    yield* parser.end();
  }
  const composer = new Composer(options);
  let doc: Document.Parsed | undefined;
  // yaml makes an Error per problem, one per bad token of a damaged text (tens of thousands):
  // the stack trace each Error captures was most of the cost, and is never shown.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const next of composer.compose(tokens(), true, text.length)) {
      if (refused) break;
      if (!doc) {
        doc = next;
        continue;
      }
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (refused || !doc) return { refused: refused ?? { reason: 'depth', at: 0 } };
  reportDuplicateKeys(doc);
  return { doc };
}

/**
 * yaml's own `uniqueKeys` check compares each key with every earlier one of its mapping (20,000
 * keys: 3 s), so it is turned off by the caller and done here with one set per mapping.
 */
function reportDuplicateKeys(doc: Document.Parsed): void {
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value: unknown = pair.key.value;
        const id = `${typeof value}:${String(value)}`;
        if (!seen.has(id)) {
          seen.add(id);
          continue;
        }
        const range = pair.key.range ?? [0, 0];
        doc.errors.push(new YAMLParseError([range[0], range[1]], 'DUPLICATE_KEY', 'Map keys must be unique'));
      }
    },
  });
}
