/**
 * The shapes the `Grid` provider reads and writes, and the small pure helpers around them: input
 * normalization, the resource id, JSON-pointer to Pulumi property paths. Nothing here does I/O.
 */
import { unwrapSecret, type WireSecret } from './wire.js';

/** A grid spec in its user-facing (schema) form; the provider sends it to the master as JSON. */
export type SpecObject = Record<string, unknown>;

/**
 * The inputs as the provider receives them: plain values (the engine unwraps secrets for the
 * dynamic host), or wire secrets when a caller drives the provider directly.
 */
export interface GridProviderInputs {
  /** The spec object; after `check` always present (loaded from `specFile` when that was given). */
  readonly spec?: SpecObject;
  /** Path of a grid.yaml, relative to the Pulumi project directory; read at check time. */
  readonly specFile?: string;
  /**
   * host:port of the master, or of several masters on etcd comma-separated (calls find the
   * leader); after `check` always present (defaults to `spec.master.address`).
   */
  readonly masterAddress?: string;
  /** The master's shared token, if it requires one. */
  readonly token?: string | WireSecret;
  /** PEM of the grid CA: turns on mutual TLS (`--tls-ca`). Stored as a secret. */
  readonly tlsCa?: string | WireSecret;
  /** PEM certificate of this caller (`--tls-cert`, role operator or admin). Stored as a secret. */
  readonly tlsCert?: string | WireSecret;
  /** PEM private key of {@link tlsCert} (`--tls-key`). Stored as a secret, never in plaintext. */
  readonly tlsKey?: string | WireSecret;
  /** How long create/update wait for the grid to converge, e.g. `5m`. @default "5m" */
  readonly convergeTimeout?: string;
  /**
   * Written by `check`: the master's dry-run plan as one line per action, so that
   * `pulumi preview --diff` shows which nodes will be created, destroyed or replaced and where.
   * Never read as an input to the grid.
   */
  readonly plannedChanges?: readonly string[];
}

/** Where one storage node of the grid runs. */
export interface Placement {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  /** leader, replica or standalone. */
  readonly role: string;
  readonly cluster: string;
  /** starting, running, restarting, stopping, stopped or failed. */
  readonly status: string;
  readonly memoryMb: number;
}

/** Health of one declared cluster as the master sees it. */
export interface ClusterHealthOutput {
  readonly name: string;
  readonly desired: number;
  readonly running: number;
  /** healthy, degraded or critical. */
  readonly health: string;
  readonly leaderNodeId: string;
}

/** The outputs (state) of a `Grid`: the inputs echoed, plus what the master reports. */
export interface GridProviderOutputs extends Omit<GridProviderInputs, 'plannedChanges'> {
  readonly spec: SpecObject;
  readonly masterAddress: string;
  /** `spec.name`, for display and for telling this grid apart from another one on the master. */
  readonly gridName: string;
  /** The master's spec generation this state reflects. */
  readonly generation: number;
  /** Every node of the declared clusters, sorted by cluster then node id. */
  readonly placements: readonly Placement[];
  readonly clusterHealth: readonly ClusterHealthOutput[];
  /** Overall grid health: healthy, degraded or critical. */
  readonly health: string;
}

/**
 * The input keys whose change needs an update (what `diff` compares). `specFile` is not one:
 * `check` loads the file into `spec`, so its content is compared, not its path (a grid imported
 * by address and then declared by file is unchanged). `convergeTimeout` is not one either: it
 * shapes the operation, not the grid (like Pulumi's own customTimeouts). The token is: later
 * reads and deletes take it from the outputs, which only an update rewrites.
 */
export const DESIRED_KEYS = ['spec', 'masterAddress', 'token', 'tlsCa', 'tlsCert', 'tlsKey'] as const;

/** The credential inputs: every one is a secret in the checked inputs and in the outputs. */
export const CREDENTIAL_KEYS = ['token', 'tlsCa', 'tlsCert', 'tlsKey'] as const;

/** Default wait for convergence when `convergeTimeout` is not set. */
export const DEFAULT_CONVERGE_TIMEOUT = '5m';

/** Address used when neither `masterAddress` nor `spec.master.address` is given (the schema default). */
export { DEFAULT_MASTER_ADDRESS } from '../../client/index.js';

const ADDRESS_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):([0-9]{1,5})$/;

/** The addresses of a `masterAddress` (one, or several comma-separated). */
export function masterList(address: string): string[] {
  return address.split(',').map((a) => a.trim()).filter((a) => a !== '');
}

/**
 * True when two `masterAddress` values name the same masters' grid: they share an address. Adding
 * or dropping a master of the list is the same grid; a list with no master in common is another.
 */
export function sameMasters(a: string, b: string): boolean {
  const left = new Set(masterList(a));
  return masterList(b).some((x) => left.has(x));
}

/** Why `address` (one host:port, or several comma-separated) is not usable, or undefined when it is. */
export function addressProblem(address: string): string | undefined {
  if (address.includes(',')) {
    const list = masterList(address);
    if (list.length === 0) return `"${address}" names no master`;
    for (const one of list) {
      const problem = addressProblem(one);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  const m = ADDRESS_RE.exec(address);
  if (!m) return `"${address}" is not host:port (an IPv6 host is written in brackets, e.g. [::1]:7000)`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} of "${address}" is out of range 1-65535`;
  return undefined;
}

/**
 * The resource id: the master address. A master holds one grid spec at a time, so its address
 * identifies the grid; it is all `read` needs, which is what makes import work without old state.
 */
export function gridId(masterAddress: string): string {
  return masterAddress;
}

/** The master address an id names (ids are addresses; see {@link gridId}). */
export function addressFromId(id: string): string {
  return id.startsWith('grpc://') ? id.slice('grpc://'.length) : id;
}

/** The master address `spec.master.address` declares, if any. */
export function specMasterAddress(spec: SpecObject | undefined): string | undefined {
  const master = spec?.['master'];
  if (typeof master !== 'object' || master === null) return undefined;
  const address = (master as Record<string, unknown>)['address'];
  return typeof address === 'string' ? address : undefined;
}

/** `spec.name`, or '' when absent. */
export function specName(spec: unknown): string {
  if (typeof spec !== 'object' || spec === null) return '';
  const name = (spec as Record<string, unknown>)['name'];
  return typeof name === 'string' ? name : '';
}

/** Declared clusters as `{name, nodes}`, skipping malformed entries (validation reports those). */
export function declaredClusters(spec: unknown): { name: string; nodes: number }[] {
  if (typeof spec !== 'object' || spec === null) return [];
  const clusters = (spec as Record<string, unknown>)['clusters'];
  if (!Array.isArray(clusters)) return [];
  const out: { name: string; nodes: number }[] = [];
  for (const c of clusters) {
    if (typeof c !== 'object' || c === null) continue;
    const name = (c as Record<string, unknown>)['name'];
    const nodes = (c as Record<string, unknown>)['nodes'];
    if (typeof name === 'string' && typeof nodes === 'number') out.push({ name, nodes });
  }
  return out;
}

/** The token as a plain string, or undefined when none is set. */
export function plainToken(value: unknown): string | undefined {
  const token = unwrapSecret(value);
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** A possibly secret string input as a plain string, or undefined when unset or empty. */
export const plainSecret = plainToken;

/**
 * A JSON pointer inside the spec as a Pulumi property path rooted at `root`:
 * `/clusters/0/nodes` -> `spec.clusters[0].nodes`; keys that are not identifiers are quoted
 * (`spec.agents[1].labels["topology.kubernetes.io/zone"]`).
 */
export function pointerToPropertyPath(pointer: string, root = 'spec'): string {
  if (pointer === '' || pointer === '/') return root;
  const segments = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let path = root;
  for (const seg of segments) {
    if (/^(0|[1-9][0-9]*)$/.test(seg)) path += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) path += `.${seg}`;
    else path += `[${JSON.stringify(seg)}]`;
  }
  return path;
}

/** Structural equality of JSON-like values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}
