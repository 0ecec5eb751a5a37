/**
 * Which verb a `sutra-grid` call names, which verbs are light client calls and which read a spec
 * file. Imports nothing: scripts/bundle.mjs also builds it into the client bundle's small entry
 * (client-bundle-main.ts), for bin/sutra-grid.js to choose between the CLI's builds before loading
 * any, without starting Node's ES module loader.
 */

/** Global options that take a value (the verb is the first word after them). */
const GLOBAL_VALUE_OPTIONS = new Set(['--master', '--token-file']);

/** The verb of `argv` (node, script, ...args), or undefined when there is none before a flag we do not know. */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Verbs that only call a master and print its answer: their modules import the client layer and
 * the CLI's output helpers, not the spec parser, the planner or a daemon. They run from the client
 * bundle (client-main.ts), one CommonJS file run through V8's code cache, because a call is mostly
 * start-up; the other verbs (daemons, spec files, `up`) run from the ES module build.
 */
export const CLIENT_VERBS = [
  'status',
  'list-agents',
  'list-nodes',
  'cordon',
  'uncordon',
  'drain',
  'spawn',
  'stop',
  'node-status',
  'promote',
  'restart',
  'events',
] as const;

/** A verb of {@link CLIENT_VERBS}. */
export type ClientVerb = (typeof CLIENT_VERBS)[number];

/** True when `verb` is one of {@link CLIENT_VERBS}. */
export function isClientVerb(verb: string | undefined): verb is ClientVerb {
  return (CLIENT_VERBS as readonly (string | undefined)[]).includes(verb);
}

/**
 * Verbs that read a grid spec and, but `validate`, send it to a master: a CI pipeline's calls.
 * They run from the spec bundle (spec-main.ts), one CommonJS file run through V8's code cache as
 * the client verbs' is: most of a `validate` was Node compiling the CLI's ES modules and the YAML
 * library. `up` stays in the ES module build: it starts daemons.
 */
export const SPEC_VERBS = ['validate', 'plan', 'apply'] as const;

/** A verb of {@link SPEC_VERBS}. */
export type SpecVerb = (typeof SPEC_VERBS)[number];

/** True when `verb` is one of {@link SPEC_VERBS}. */
export function isSpecVerb(verb: string | undefined): verb is SpecVerb {
  return (SPEC_VERBS as readonly (string | undefined)[]).includes(verb);
}
