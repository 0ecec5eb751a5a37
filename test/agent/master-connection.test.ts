/**
 * The agent dials its master with a client of only the GridMaster methods it calls
 * (runtime/agent/master-connection.ts), defined beside the generated service so the agent's bundle
 * leaves the rest of the master's API out. Each must be the generated method: same path, same
 * streaming, same bytes on the wire.
 */
import { credentials } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GridMasterService, HeartbeatRequest, RegisterAgentRequest } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { AGENT_MASTER_METHODS, AgentMasterClient } from '../../runtime/agent/master-connection.js';

describe('the agent\'s GridMaster client', () => {
  it.each(Object.keys(AGENT_MASTER_METHODS) as (keyof typeof AGENT_MASTER_METHODS)[])('%s is the generated method', (name) => {
    const ours = AGENT_MASTER_METHODS[name];
    const generated = GridMasterService[name];
    expect({ path: ours.path, requestStream: ours.requestStream, responseStream: ours.responseStream }).toEqual({
      path: generated.path,
      requestStream: generated.requestStream,
      responseStream: generated.responseStream,
    });
  });

  it('puts the same bytes on the wire and reads them back alike', () => {
    const register = RegisterAgentRequest.fromPartial({ agent: { agentId: 'a1', address: '127.0.0.1:1', version: '1' }, nodes: [{ nodeId: 'n1', port: 9 }] });
    const bytes = AGENT_MASTER_METHODS.registerAgent.requestSerialize(register);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).toEqual(GridMasterService.registerAgent.requestSerialize(register));
    expect(AGENT_MASTER_METHODS.registerAgent.requestDeserialize(bytes)).toEqual(GridMasterService.registerAgent.requestDeserialize(bytes));
    const beat = HeartbeatRequest.fromPartial({ agentId: 'a1', nodes: [{ nodeId: 'n1', status: 'running', port: 9 }] });
    expect(AGENT_MASTER_METHODS.heartbeatStream.requestSerialize(beat)).toEqual(GridMasterService.heartbeatStream.requestSerialize(beat));
  });

  it('has a method per agent call on its client, and only those', () => {
    const client = new AgentMasterClient('127.0.0.1:1', credentials.createInsecure());
    try {
      for (const name of Object.keys(AGENT_MASTER_METHODS)) expect(typeof (client as unknown as Record<string, unknown>)[name]).toBe('function');
      expect((client as unknown as Record<string, unknown>)['applySpec']).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
