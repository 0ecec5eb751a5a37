/**
 * `check`: turns the user's inputs into the checked inputs the engine stores, collecting every
 * problem as a `{property, reason}` failure instead of stopping at the first. Schema and semantic
 * validation are the spec layer's; this module maps its diagnostics onto Pulumi property paths
 * and validates the provider's own inputs (address, token, timeout).
 */
import type * as pulumi from '@pulumi/pulumi';
import { parseDuration } from '../../schema/index.js';
import {
  addressProblem,
  DEFAULT_MASTER_ADDRESS,
  pointerToPropertyPath,
  specMasterAddress,
  type GridProviderInputs,
  type SpecObject,
} from './grid-inputs.js';
import { loadSpecFile, validateSpec, type SpecProblem } from './spec-validation.js';
import { containsUnknown, unwrapSecret, wireSecret } from './wire.js';

/** The result of checking inputs: inputs to store, and every problem found. */
export interface CheckOutcome {
  readonly inputs: GridProviderInputs & Record<string, unknown>;
  readonly failures: pulumi.dynamic.CheckFailure[];
}

/** Maps one spec diagnostic to a check failure, with `file:line:col` when the spec came from a file. */
function toFailure(p: SpecProblem): pulumi.dynamic.CheckFailure {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}: ` : '';
  return { property: pointerToPropertyPath(p.pointer), reason: `${where}${p.message} [${p.code}]` };
}

/**
 * Validates `news` and returns the inputs to store. A `specFile` is read here (relative to the
 * working directory, which the engine sets to the Pulumi project directory) and its content put
 * in `spec`, so a change to the file shows up as a diff even when the path is unchanged.
 * Values not known yet (preview with computed inputs) are passed through unchecked.
 */
export async function checkInputs(news: Record<string, unknown>): Promise<CheckOutcome> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const out: Record<string, unknown> = { ...news };
  delete out['plannedChanges'];

  const rawSpec = news['spec'];
  const rawFile = news['specFile'];
  let spec: SpecObject | undefined;

  if (containsUnknown(rawSpec) || containsUnknown(rawFile)) {
    // The spec depends on another resource's output: nothing to validate until it is known.
  } else if (rawSpec !== undefined && rawSpec !== null && rawFile !== undefined && rawFile !== null) {
    failures.push({ property: 'specFile', reason: 'give either spec (an object) or specFile (a path), not both' });
  } else if (rawFile !== undefined && rawFile !== null) {
    if (typeof rawFile !== 'string' || rawFile.trim() === '') {
      failures.push({ property: 'specFile', reason: 'must be a non-empty path to a grid.yaml' });
    } else {
      const loaded = await loadSpecFile(rawFile);
      if (loaded.readError !== undefined) failures.push({ property: 'specFile', reason: loaded.readError });
      failures.push(...loaded.problems.map(toFailure));
      spec = loaded.spec;
      if (spec !== undefined) out['spec'] = spec;
    }
  } else if (rawSpec !== undefined && rawSpec !== null) {
    if (typeof rawSpec !== 'object' || Array.isArray(rawSpec)) {
      failures.push({ property: 'spec', reason: `must be an object (the grid spec), got ${Array.isArray(rawSpec) ? 'an array' : typeof rawSpec}` });
    } else {
      spec = rawSpec as SpecObject;
      failures.push(...validateSpec(spec).map(toFailure));
    }
  } else {
    failures.push({ property: 'spec', reason: 'required: give spec (the grid spec as an object) or specFile (a path to grid.yaml)' });
  }

  const rawAddress = news['masterAddress'];
  if (!containsUnknown(rawAddress)) {
    if (rawAddress === undefined || rawAddress === null || rawAddress === '') {
      // Default to where the spec says the master listens, as `sutra-grid up` does.
      if (!containsUnknown(rawSpec)) out['masterAddress'] = specMasterAddress(spec) ?? DEFAULT_MASTER_ADDRESS;
    } else if (typeof rawAddress !== 'string') {
      failures.push({ property: 'masterAddress', reason: `must be a string host:port, got ${typeof rawAddress}` });
    } else {
      const problem = addressProblem(rawAddress);
      if (problem !== undefined) failures.push({ property: 'masterAddress', reason: problem });
    }
  }

  const rawToken = news['token'];
  if (rawToken !== undefined && rawToken !== null && !containsUnknown(rawToken)) {
    const token = unwrapSecret(rawToken);
    // The reason never quotes the value: it is a secret.
    if (typeof token !== 'string' || token.trim() === '') failures.push({ property: 'token', reason: 'must be a non-empty string' });
    else out['token'] = wireSecret(token);
  }
  failures.push(...checkTls(news, out));

  const rawTimeout = news['convergeTimeout'];
  if (rawTimeout !== undefined && rawTimeout !== null && !containsUnknown(rawTimeout)) {
    if (typeof rawTimeout !== 'string') {
      failures.push({ property: 'convergeTimeout', reason: `must be a duration string such as "90s" or "5m", got ${typeof rawTimeout}` });
    } else {
      try {
        if (parseDuration(rawTimeout, 'convergeTimeout') <= 0) failures.push({ property: 'convergeTimeout', reason: 'must be greater than 0' });
      } catch (err) {
        failures.push({ property: 'convergeTimeout', reason: (err as Error).message });
      }
    }
  }

  return { inputs: out as CheckOutcome['inputs'], failures };
}

const PEM_LABELS = { tlsCa: 'CERTIFICATE', tlsCert: 'CERTIFICATE', tlsKey: 'PRIVATE KEY' } as const;

/**
 * The mutual-TLS inputs: each a PEM text of the right kind, the certificate and key together,
 * the CA with them. Every one given is stored as a secret in `out`, whatever form it came in.
 */
function checkTls(news: Record<string, unknown>, out: Record<string, unknown>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const given = new Set<string>();
  for (const key of ['tlsCa', 'tlsCert', 'tlsKey'] as const) {
    const raw = news[key];
    if (raw === undefined || raw === null) continue;
    given.add(key);
    if (containsUnknown(raw)) continue;
    const pem = unwrapSecret(raw);
    // The reason never quotes the value: a key is a secret, and a certificate needs no echo.
    if (typeof pem !== 'string' || !pem.includes(`-----BEGIN `) || !pem.includes(PEM_LABELS[key])) {
      failures.push({ property: key, reason: `must be the PEM text of a ${PEM_LABELS[key].toLowerCase()} (-----BEGIN ...${PEM_LABELS[key]}-----)` });
    } else {
      out[key] = wireSecret(pem);
    }
  }
  if (given.has('tlsCert') !== given.has('tlsKey')) {
    failures.push({ property: given.has('tlsCert') ? 'tlsKey' : 'tlsCert', reason: 'give tlsCert and tlsKey together (the certificate and its private key)' });
  }
  if ((given.has('tlsCert') || given.has('tlsKey')) && !given.has('tlsCa')) {
    failures.push({ property: 'tlsCa', reason: 'is required with tlsCert/tlsKey: the grid CA the master\'s certificate is checked against' });
  }
  return failures;
}
