import type { SpecVerb } from './verbs.js';
import type { Register } from './program.js';

/**
 * How to load the module that registers each spec verb (verbs.ts). Shared by both builds: the full
 * CLI (main.ts) lists them among every verb; the spec bundle (spec-main.ts) has only these.
 */
export const SPEC_COMMANDS: Readonly<Record<SpecVerb, () => Promise<Register>>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidateCommand,
  plan: async () => (await import('./commands/plan.js')).registerPlanCommand,
  apply: async () => (await import('./commands/apply.js')).registerApplyCommand,
};
