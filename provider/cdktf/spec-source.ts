import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { CompiledAgentSpec, Platform } from '../../schema/compiled-spec.js';
import { GridCdktfError } from './errors.js';

/** What the stack needs from a grid spec file. */
export interface LoadedSpec {
  /** The file's text, byte for byte (uploaded to the apply step). */
  readonly text: string;
  /** Hex SHA-256 of `text`: a changed spec replaces the apply step. */
  readonly sha256: string;
  readonly name: string;
  readonly agents: readonly Pick<CompiledAgentSpec, 'id' | 'platform' | 'address' | 'capacity'>[];
}

const PLATFORMS: readonly Platform[] = ['process', 'docker', 'kubernetes', 'systemd'];

function invalid(field: string, message: string): GridCdktfError {
  return new GridCdktfError('CDKTF_SPEC_INVALID', field, message);
}

/**
 * Reads a grid.yaml and extracts the grid's name and agents. Interim reader until the schema
 * layer's barrel lands; it checks only what the stack relies on, the master validates the rest on
 * apply.
 */
export function loadSpec(specPath: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(specPath, 'utf8');
  } catch (err) {
    throw new GridCdktfError('CDKTF_SPEC_UNREADABLE', 'specPath', `cannot read ${specPath}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid('specPath', `${specPath}: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('specPath', `${specPath}: a grid spec is a YAML mapping`);
  const { name, agents } = doc as { name?: unknown; agents?: unknown };
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw invalid('/name', `${specPath}: name must be a DNS label`);
  if (!Array.isArray(agents)) throw invalid('/agents', `${specPath}: agents must be a list`);
  const out = agents.map((raw: unknown, i) => {
    const a = (raw ?? {}) as { id?: unknown; platform?: unknown; address?: unknown; capacity?: { nodes?: unknown } };
    if (typeof a.id !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(a.id)) throw invalid(`/agents/${i}/id`, `${specPath}: agent id must be a DNS label`);
    const platform = (a.platform ?? 'process') as Platform;
    if (!PLATFORMS.includes(platform)) throw invalid(`/agents/${i}/platform`, `${specPath}: unknown platform "${String(a.platform)}"`);
    if (a.address !== undefined && (typeof a.address !== 'string' || !/^[^:\s]+:\d+$/.test(a.address))) {
      throw invalid(`/agents/${i}/address`, `${specPath}: address must be HOST:PORT`);
    }
    const nodes = a.capacity?.nodes;
    if (typeof nodes !== 'number' || !Number.isInteger(nodes) || nodes < 0) throw invalid(`/agents/${i}/capacity/nodes`, `${specPath}: capacity.nodes must be an integer >= 0`);
    return {
      id: a.id,
      platform,
      ...(a.address !== undefined ? { address: a.address as string } : {}),
      capacity: { nodes, memoryMb: 0 },
    };
  });
  return { text, sha256: createHash('sha256').update(text).digest('hex'), name, agents: out };
}
