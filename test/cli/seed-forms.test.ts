/**
 * The CLI forms the design documents (seeds 001/002) give operators, each through the real CLI
 * against a real master and agent: `--master http://HOST:PORT`, `spawn --agent A --port P
 * --storage-path DIR`, `spawn -a A -p P`, `node-status --node ID`, `node-status -n ID`,
 * `stop --node ID --agent A`, `stop -n ID -a A`; the current forms keep working.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type AgentProcess } from '../helpers/agent-processes.js';
import { portBlock } from '../helpers/ports.js';
import { cleanup, runCli, startMaster, trackPid, type CliResult, type DaemonProcess } from '../helpers/processes.js';

// A block no other grid of the run uses: the agent's range, and explicit spawn ports just below it.
const PORTS = portBlock(50).start;

let master: DaemonProcess;
let agent: AgentProcess;
let url: string;

beforeAll(async () => {
  master = await startMaster({ args: ['--heartbeat-interval', '200ms'] });
  agent = await startAgent({ id: 'agent-001', master: master.address, config: { storage: { default_port_range_start: PORTS + 10, port_range_size: 40 } } });
  url = `http://${master.address}`;
});

afterAll(cleanup);

/** `sutra-grid --master http://HOST:PORT <args>`, failing with its output unless it exits 0. */
async function cli(...args: string[]): Promise<string> {
  const res = await runCli(['--master', url, ...args]);
  if (res.code !== 0) throw new Error(`sutra-grid ${args.join(' ')} exited ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
  return res.stdout;
}

/** The node id of a `spawn` line: `node <id> running on agent <a> (port <p>, pid <pid>)`. */
function spawned(out: string): { nodeId: string; port: number; pid: number } {
  const m = /^node (\S+) running on agent agent-001 \(port (\d+), pid (\d+)\)$/m.exec(out);
  if (m === null) throw new Error(`not a spawn line: ${out}`);
  trackPid(Number(m[3]));
  return { nodeId: m[1]!, port: Number(m[2]), pid: Number(m[3]) };
}

function refused(res: CliResult, message: RegExp): void {
  expect(res.code, res.stdout + res.stderr).toBe(1);
  expect(res.stderr).toMatch(message);
}

describe("the seeds' CLI forms", () => {
  it('list-agents and status with --master http://HOST:PORT (and a trailing slash)', async () => {
    expect(await cli('list-agents')).toMatch(/^agent-001\s+healthy\s+-\s+process/m);
    const res = await runCli(['--master', `${url}/`, 'status']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^agents\s+1 total, 1 healthy/m);
    // The command's own --master takes the URL form too.
    expect((await runCli(['list-agents', '--master', url])).stdout).toContain('agent-001');
  });

  it('spawn --agent --port --storage-path, node-status --node, stop --node --agent', async () => {
    const storage = join(agent.dataDir, 'test-storage');
    const node = spawned(await cli('spawn', '--agent', 'agent-001', '--port', String(PORTS), '--storage-path', storage));
    expect(node.port).toBe(PORTS);

    const status = await cli('node-status', '--node', node.nodeId);
    expect(status).toMatch(new RegExp(`^node\\s+${node.nodeId}$`, 'm'));
    expect(status).toMatch(/^status\s+running$/m);
    expect(status).toMatch(new RegExp(`^port\\s+${PORTS}$`, 'm'));
    expect(status).toMatch(new RegExp(`^storage path\\s+${storage}$`, 'm'));

    expect(await cli('stop', '--node', node.nodeId, '--agent', 'agent-001')).toBe(`node ${node.nodeId} on agent agent-001 is stopped (exit code 0)\n`);
  });

  it('spawn -a -p, node-status -n, stop -n -a', async () => {
    const node = spawned(await cli('spawn', '-a', 'agent-001', '-p', String(PORTS + 1)));
    expect(node.port).toBe(PORTS + 1);
    expect(await cli('node-status', '-n', node.nodeId)).toMatch(/^status\s+running$/m);
    expect(await cli('stop', '-n', node.nodeId, '-a', 'agent-001')).toBe(`node ${node.nodeId} on agent agent-001 is stopped (exit code 0)\n`);
  });

  it('the current forms keep working: spawn --node-id, node-status NODE, stop NODE, HOST:PORT', async () => {
    const res = await runCli(['spawn', '--master', master.address, '--agent', 'agent-001', '--node-id', 'kept-form', '--memory', '32']);
    expect(res.code, res.stderr).toBe(0);
    expect(spawned(res.stdout).nodeId).toBe('kept-form');
    expect(await cli('node-status', '--node-id', 'kept-form')).toMatch(/^status\s+running$/m);
    expect(await cli('node-status', 'kept-form')).toMatch(/^status\s+running$/m);
    expect(await cli('stop', 'kept-form')).toBe('node kept-form on agent agent-001 is stopped (exit code 0)\n');
  });

  it('refuses a node named on another agent, contradicting node names, and other schemes, each in one line', async () => {
    const node = spawned(await cli('spawn', '-a', 'agent-001', '-n', 'seed-check'));
    expect(node.nodeId).toBe('seed-check');
    // --agent is a check: the node is not stopped when it is elsewhere.
    refused(await runCli(['--master', url, 'stop', '-n', 'seed-check', '-a', 'agent-999']), /^error: node "seed-check" is not on agent "agent-999" \(it is on "agent-001"\) \(NODE_NOT_FOUND\)\n$/);
    refused(await runCli(['--master', url, 'node-status', '-n', 'seed-check', '-a', 'agent-999']), /is not on agent "agent-999"/);
    expect(await cli('node-status', '-n', 'seed-check')).toMatch(/^status\s+running$/m);
    refused(await runCli(['--master', url, 'stop', 'seed-check', '--node', 'other']), /^error: --node: "other" contradicts nodeId "seed-check"; give one/);
    expect(await cli('stop', '-n', 'seed-check', '-a', 'agent-001')).toContain('is stopped');

    refused(await runCli(['--master', `https://${master.address}`, 'status']), /^error: --master: "https:\/\/[^"]+": the master speaks plaintext gRPC/);
    refused(await runCli(['--master', `grpc://${master.address}`, 'status']), /^error: --master: "grpc:\/\/[^"]+": unsupported scheme grpc:\/\//);
    refused(await runCli(['--master', 'http://localhost', 'status']), /^error: --master: expected HOST:PORT or http:\/\/HOST:PORT, got "http:\/\/localhost"/);
  });
});
