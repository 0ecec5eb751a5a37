/**
 * `POST plan` and `POST apply`: a grid.yaml (or JSON) in. The text is parsed and validated as
 * `sutra-grid plan` / `apply` do before they send anything (every problem with its line and
 * column), then planned and applied by the master's own ApplySpec code (DeclarativeControl.apply,
 * its dry run for a plan), so the answer is the plan the CLI shows.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { formatDiagnostic, parseGridSpec, type Diagnostic, type GridSpecInput } from '../../../schema/index.js';
import { hasChanges, renderSpecPlan, specDiffers, type SpecPlan } from '../../../plan/index.js';
import { decodePlan } from '../../../client/index.js';
import type { MasterApi } from '../../master/index.js';
import { problem, ProblemError } from '../problem.js';
import { PLAN_SCHEMA, answers, bool, int, object } from '../schemas.js';
import type { GridRoute } from './grid-route.js';

/** Where diagnostics say the spec came from. */
const SOURCE = '<request body>';

/** Parses and validates the body; a spec with errors is a 400 listing every diagnostic. */
function specOf(body: unknown): { input: GridSpecInput; json: string; warnings: string[] } {
  const text = typeof body === 'string' ? body : '';
  if (text.trim() === '') throw new ProblemError(problem('SPEC_INVALID', GrpcStatus.INVALID_ARGUMENT, 'body: is empty; send a grid.yaml (application/yaml) or its JSON', { field: 'body' }));
  const result = parseGridSpec(text, SOURCE);
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    throw new ProblemError(
      problem('SPEC_INVALID', GrpcStatus.INVALID_ARGUMENT, `${SOURCE}: ${errors.length} problem${errors.length === 1 ? '' : 's'} found; nothing was applied`, {
        field: first !== undefined && first.pointer !== '' ? first.pointer : 'body',
        diagnostics: result.diagnostics.map(diagnosticJson),
      }),
    );
  }
  return { input: result.spec, json: JSON.stringify(result.spec), warnings };
}

function diagnosticJson(d: Diagnostic): Record<string, unknown> {
  return { code: d.code, severity: d.severity, message: d.message, pointer: d.pointer, ...(d.line !== undefined ? { line: d.line, col: d.col ?? 1 } : {}), text: formatDiagnostic(d) };
}

/** The plan as `sutra-grid plan --json` prints it, plus its text and the spec's warnings. */
function planJson(p: SpecPlan, warnings: readonly string[]): Record<string, unknown> {
  return { ...p.plan, specChanged: p.specChanged, generation: p.generation, hasChanges: hasChanges(p), text: renderSpecPlan(p), warnings };
}

async function plan(api: MasterApi, body: unknown): Promise<Record<string, unknown>> {
  const spec = specOf(body);
  const outcome = await api.declarative.apply(spec.json, undefined, true);
  const applied = api.declarative.desired.current();
  const p: SpecPlan = { plan: decodePlan(outcome.encodedPlan), generation: outcome.generation, specChanged: specDiffers(applied.specJson, spec.input) };
  return planJson(p, spec.warnings);
}

const YAML_BODY = { type: 'string', description: 'a grid.yaml (application/yaml) or the same spec as JSON (application/json)' } as const;

export const SPEC_ROUTES: readonly GridRoute[] = [
  {
    method: 'POST',
    url: '/plan',
    summary: 'what applying this grid.yaml would change, planned by the master (`sutra-grid plan --json`)',
    access: 'read',
    specBody: true,
    schema: { body: YAML_BODY, response: answers(PLAN_SCHEMA, 413, 415) },
    handler: (api, req) => plan(api, req.body),
  },
  {
    method: 'POST',
    url: '/apply',
    summary: 'store this grid.yaml as the next generation; the reconciler then converges the grid (follow `events` or poll `status`)',
    access: 'operate',
    specBody: true,
    schema: {
      body: YAML_BODY,
      querystring: {
        type: 'object',
        required: ['expectedGeneration'],
        additionalProperties: false,
        properties: { expectedGeneration: { type: 'integer', minimum: 0, description: 'the applied generation the caller planned against (`GET spec`, `POST plan`); another one is refused with 409' } },
      },
      response: answers(object({ generation: int, changed: bool, plan: PLAN_SCHEMA }), 409, 413, 415),
    },
    handler: async (api, req) => {
      const spec = specOf(req.body);
      const expected = (req.query as { expectedGeneration: number }).expectedGeneration;
      const outcome = await api.declarative.apply(spec.json, expected, false);
      const p: SpecPlan = { plan: decodePlan(outcome.encodedPlan), generation: expected, specChanged: outcome.changed };
      return { generation: outcome.generation, changed: outcome.changed, plan: planJson(p, spec.warnings) };
    },
  },
];
