/**
 * `parseDocument` with a bound on nesting, checked before any recursive work. yaml's lexer and
 * CST parser are iterative but its composer recurses once per level: 10,000 levels overflow the
 * stack, and an overflow near the limit can abort the whole process inside V8 (seen in the master
 * as "RegExpCompiler Allocation failed"). Here each lexeme is looked at before the parser sees
 * it, and the parse stops at the first one nested deeper than allowed.
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
 * Nesting as the lexer sees it: flow brackets exactly, block collections by an indentation stack
 * (one level per column a node starts at, plus one per `- ` or `? ` written on one line). The
 * block count may exceed yaml's by one per line, never fall short of it.
 */
class DepthTracker {
  private flow = 0;
  private readonly columns: number[] = [];
  private lineStart = 0;
  private firstOnLine = true;
  /** Offset of the current lexeme in the text. */
  offset = 0;

  constructor(private readonly maxDepth: number) {}

  /** Accounts for one lexeme; true when it goes past the limit. */
  step(lexeme: string, type: string | undefined): boolean {
    let tooDeep = false;
    switch (type) {
      case 'newline':
        this.firstOnLine = true;
        break;
      case 'doc-start':
        this.columns.length = 0;
        this.flow = 0;
        break;
      case 'flow-error-end':
        this.flow = 0;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        this.flow = Math.max(0, this.flow - 1);
        break;
      case 'flow-map-start':
      case 'flow-seq-start':
        tooDeep = this.node() || this.flow + 1 + this.columns.length > this.maxDepth;
        this.flow++;
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'block-scalar-header':
      case 'alias':
        tooDeep = this.node();
        break;
    }
    // Markers (document mode, flow error end, scalar) take no room in the text.
    if (type !== 'doc-mode' && type !== 'flow-error-end' && type !== 'scalar') {
      const newline = lexeme.lastIndexOf('\n');
      if (newline !== -1) this.lineStart = this.offset + newline + 1;
      this.offset += lexeme.length;
    }
    return tooDeep;
  }

  /** A node starts at the current offset: block nesting follows its column. */
  private node(): boolean {
    if (this.flow > 0) return false;
    const column = this.offset - this.lineStart;
    if (this.firstOnLine) {
      while (this.columns.length > 0 && (this.columns[this.columns.length - 1] ?? 0) >= column) this.columns.pop();
      this.firstOnLine = false;
    }
    if ((this.columns[this.columns.length - 1] ?? -1) < column) this.columns.push(column);
    return this.columns.length + this.flow > this.maxDepth;
  }
}

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
  const tracker = new DepthTracker(maxDepth);
  const parser = new Parser(onNewLine);
  let refused: YamlRefusal | undefined;
  let aliases = 0;
  function* tokens(): Generator<CST.Token> {
    onNewLine?.(0);
    let atScalar = false;
    for (const lexeme of new Lexer().lex(text)) {
      // The lexeme after a scalar marker is the scalar's text, whatever characters it holds.
      const type: string | undefined = atScalar ? undefined : (CST.tokenType(lexeme) ?? undefined);
      atScalar = type === 'scalar';
      const at = tracker.offset;
      if (tracker.step(lexeme, type)) {
        refused = { reason: 'depth', at };
        return;
      }
      if (type === 'alias' && ++aliases > maxAliases) {
        refused = { reason: 'aliases', at };
        return;
      }
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }
  const composer = new Composer(options);
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (refused) break;
    if (!doc) {
      doc = next;
      continue;
    }
    doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
    break;
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
