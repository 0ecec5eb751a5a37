/**
 * One rule for every GridMaster method: a missing required field is INVALID_ARGUMENT naming it; a
 * malformed id is INVALID_ARGUMENT naming it and quoting a short prefix of what was sent; an
 * unknown agent is NOT_FOUND, checked before anything is recorded.
 */
import { quote } from '../../common/grpc-edge.js';
import { GridError } from '../../errors.js';
import type { AgentRecord, AgentRegistry } from '../agent-registry.js';

/** Agent and node ids: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * A required id field.
 * @throws GridError INVALID_ARGUMENT naming `field` when it is empty or not an id.
 */
export function requireId(field: string, value: string): string {
  if (value === '') throw new GridError('INVALID_ARGUMENT', `${field}: is required`, { field });
  return checkId(field, value);
}

/**
 * An optional id field: empty is allowed (the callee chooses), anything else must be an id.
 * @throws GridError INVALID_ARGUMENT naming `field`.
 */
export function optionalId(field: string, value: string): string {
  return value === '' ? value : checkId(field, value);
}

function checkId(field: string, value: string): string {
  if (!ID.test(value)) {
    throw new GridError('INVALID_ARGUMENT', `${field}: must be 1-63 letters, digits, ".", "_" or "-", got ${quote(value)}`, { field });
  }
  return value;
}

/**
 * A registered agent named by a required field.
 * @throws GridError INVALID_ARGUMENT (missing or malformed), AGENT_NOT_FOUND (NOT_FOUND) when the
 * master does not know it.
 */
export function requireKnownAgent(registry: AgentRegistry, field: string, agentId: string): AgentRecord {
  return registry.require(requireId(field, agentId));
}
