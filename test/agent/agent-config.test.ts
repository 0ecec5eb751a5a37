import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAgentConfig, compileAgentOptions, loadAgentConfig } from '../../runtime/agent/agent-config.js';
import { GridError } from '../../runtime/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): GridError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GridError);
    return err as GridError;
  }
  throw new Error('expected a refusal');
}

const SEED = `
[agent]
agent_id = "agent-001"
master_endpoint = "127.0.0.1:7000"
agent_port = 8001
platform = "process"
max_storage_nodes = 5

[storage]
binary_path = "/usr/local/bin/storage-server"
data_path = "/var/lib/sutra-grid"
default_memory_mb = 512
default_port_range_start = 50051

[monitoring]
heartbeat_interval_secs = 5
health_check_interval_secs = 10
restart_failed_nodes = true
`;

describe('agent-config.toml', () => {
  it("reads the seed's format and compiles it to milliseconds and absolute paths", () => {
    const path = join(dir, 'seed.toml');
    writeFileSync(path, SEED);
    const o = compileAgentOptions(loadAgentConfig(path), {}, undefined, {});
    expect(o).toMatchObject({
      agentId: 'agent-001',
      masterEndpoint: '127.0.0.1:7000',
      listen: '127.0.0.1:8001',
      platform: 'process',
      maxNodes: 5,
      storage: { binaryPath: '/usr/local/bin/storage-server', dataPath: '/var/lib/sutra-grid', defaultMemoryMb: 512, portRangeStart: 50051, portRangeSize: 100 },
      monitoring: { heartbeatIntervalMs: 5000, healthCheckIntervalMs: 10_000, restartFailedNodes: true, restartMax: 3, restartBackoffMs: 200, stopGraceMs: 10_000 },
    });
  });

  it('accepts the documented example, examples/agent-config.toml', () => {
    const example = new URL('../../examples/agent-config.toml', import.meta.url).pathname;
    const o = compileAgentOptions(loadAgentConfig(example), {}, undefined, {});
    expect([o.agentId, o.platform, o.maxNodes, o.storage.portRangeStart]).toEqual(['agent-001', 'process', 5, 50051]);
  });

  it('lets flags override the file', () => {
    const file = checkAgentConfig({ agent: { agent_id: 'from-file', max_storage_nodes: 5 }, storage: { data_path: '/data' } });
    const o = compileAgentOptions(file, { id: 'from-flag', maxNodes: '2', heartbeatInterval: '250ms', listen: '127.0.0.1:0', dataDir: '/other', master: '127.0.0.1:9' }, undefined, {});
    expect([o.agentId, o.maxNodes, o.monitoring.heartbeatIntervalMs, o.listen, o.storage.dataPath, o.masterEndpoint]).toEqual([
      'from-flag', 2, 250, '127.0.0.1:0', '/other', '127.0.0.1:9',
    ]);
  });

  it('falls back to $SUTRA_GRID_MASTER for the master endpoint', () => {
    const o = compileAgentOptions({}, { dataDir: '/d', id: 'a' }, undefined, { SUTRA_GRID_MASTER: '10.0.0.1:7000' });
    expect(o.masterEndpoint).toBe('10.0.0.1:7000');
  });

  it("takes the seeds' http://HOST:PORT master endpoint, and refuses another scheme naming the key", () => {
    const file = checkAgentConfig({ agent: { agent_id: 'agent-001', master_endpoint: 'http://localhost:7000' } });
    expect(compileAgentOptions(file, { dataDir: '/d' }, undefined, {}).masterEndpoint).toBe('localhost:7000');
    const grpcs = checkAgentConfig({ agent: { agent_id: 'agent-001', master_endpoint: 'ftp://localhost:7000' } });
    const err = refusal(() => compileAgentOptions(grpcs, { dataDir: '/d' }, undefined, {}));
    expect(err.message).toContain('[agent].master_endpoint');
  });

  it('refuses unknown tables and keys, and wrong types, naming the key', () => {
    expect(refusal(() => checkAgentConfig({ agent: { max_storage_nodes: 0 } })).message).toBe(
      'agent-config.toml: [agent].max_storage_nodes: expected a positive integer, got 0',
    );
    expect(refusal(() => checkAgentConfig({ agent: { agentid: 'x' } })).message).toContain('[agent].agentid: unknown key');
    expect(refusal(() => checkAgentConfig({ storag: {} })).message).toContain('[storag]: unknown table');
    expect(refusal(() => checkAgentConfig({ monitoring: { restart_failed_nodes: 'yes' } })).message).toContain('[monitoring].restart_failed_nodes: expected true or false');
    expect(refusal(() => checkAgentConfig({ storage: { default_port_range_start: 80 } })).code).toBe('CONFIG_INVALID');
    expect(refusal(() => checkAgentConfig({ agent: { labels: { zone: 1 } } })).context.field).toBe('[agent].labels');
  });

  it('names the file and line of a TOML syntax error', () => {
    const path = join(dir, 'broken.toml');
    writeFileSync(path, '[agent]\nagent_id = \n');
    const err = refusal(() => loadAgentConfig(path));
    expect(err.message).toMatch(/^broken\.toml: /);
    expect(err.code).toBe('CONFIG_INVALID');
  });

  it('refuses bad values that only make sense together', () => {
    expect(refusal(() => compileAgentOptions({}, { id: 'a' }, undefined, {})).message).toContain('--data-dir');
    expect(refusal(() => compileAgentOptions({}, { id: 'a b', dataDir: '/d' }, undefined, {})).message).toContain('--id');
    expect(refusal(() => compileAgentOptions(checkAgentConfig({ agent: { platform: 'systemd' } }), { id: 'a', dataDir: '/d' }, undefined, {})).message).toContain('[agent].platform');
    expect(refusal(() => compileAgentOptions(checkAgentConfig({ storage: { default_port_range_start: 65500, port_range_size: 100 } }), { id: 'a', dataDir: '/d' }, undefined, {})).message).toContain('[storage].port_range_size');
    expect(refusal(() => compileAgentOptions({}, { id: 'a', dataDir: '/d', maxNodes: '0' }, undefined, {})).message).toContain('--max-nodes');
    // no token: only loopback
    expect(refusal(() => compileAgentOptions({}, { id: 'a', dataDir: '/d', listen: '0.0.0.0:7001' }, undefined, {})).code).toBe('INSECURE_BIND');
    expect(compileAgentOptions({}, { id: 'a', dataDir: '/d', listen: '0.0.0.0:7001' }, 'secret', {}).listen).toBe('0.0.0.0:7001');
  });
});
