/**
 * One rule for every GridMaster method: a missing required field is INVALID_ARGUMENT naming it; a
 * malformed id is INVALID_ARGUMENT naming it and quoting a short prefix of what was sent; an
 * unknown agent is NOT_FOUND, checked before anything is recorded.
 */
import { optionalId, requireId } from '../../common/grpc-edge.js';
import type { AgentRecord, AgentRegistry } from '../agent-registry.js';

export { optionalId, requireId };

/**
 * A registered agent named by a required field.
 * @throws GridError INVALID_ARGUMENT (missing or malformed), AGENT_NOT_FOUND (NOT_FOUND) when the
 * master does not know it.
 */
export function requireKnownAgent(registry: AgentRegistry, field: string, agentId: string): AgentRecord {
  return registry.require(requireId(field, agentId));
}
