/**
 * How a node's replication settings become storage-server flags, on both platforms, and come back
 * from a container's labels only when they pass the spawn's own checks.
 */
import { describe, expect, it } from 'vitest';
import { containerCreateOptions, type ContainerSettings } from '../../runtime/agent/docker-container-spec.js';
import { nodeLabels, specFromLabels } from '../../runtime/agent/docker-labels.js';
import type { NodeLaunchSpec } from '../../runtime/agent/platform.js';
import { replicationArgs } from '../../runtime/agent/replication-assignment.js';
import { compileStorageFlags, parseStorageArgv } from '../../runtime/storage/index.js';

const replica: NodeLaunchSpec = {
  nodeId: 'kg-1', port: 50100, memoryMb: 128, storagePath: '/data/nodes/kg-1', cluster: 'kg', role: 'replica', generation: 3,
  replication: { grid: 'prod', term: 4, leaderAddress: 'host-a:50051', durability: 'sync', syncQuorum: 2, syncTimeoutMs: 750 },
};
const settings: ContainerSettings = { image: 'sutra-grid:test', grid: 'prod', agentId: 'a1', network: 'host', publishHost: '127.0.0.1', tokenFile: undefined, user: '1000:1000' };

describe('replication flags', () => {
  it('passes a replica its role, names, term, leader and sync settings, which the storage-server accepts as given', () => {
    const args = replicationArgs(replica);
    expect(args).toEqual(['--role', 'replica', '--node-id', 'kg-1', '--grid', 'prod', '--cluster', 'kg', '--term', '4', '--leader', 'host-a:50051', '--durability', 'sync', '--sync-quorum', '2', '--sync-timeout', '750ms']);
    const compiled = compileStorageFlags(parseStorageArgv(['--port', '1', '--storage-path', '/d', ...args]));
    expect(compiled.replication).toEqual({ grid: 'prod', cluster: 'kg', nodeId: 'kg-1', role: 'replica', leader: 'host-a:50051', term: 4, durability: 'sync', syncQuorum: 2, syncTimeoutMs: 750 });
    // The container's command carries the same flags after its own.
    expect(containerCreateOptions(settings, replica).Cmd).toEqual(expect.arrayContaining(args));
    expect(containerCreateOptions(settings, replica).Cmd!.slice(-args.length)).toEqual(args);
  });

  it('gives nodes without a replication role no flag, and async nodes no quorum or timeout', () => {
    expect(replicationArgs({ ...replica, role: 'standalone' })).toEqual([]);
    expect(replicationArgs({ ...replica, role: '', replication: undefined })).toEqual([]);
    const leader = replicationArgs({ ...replica, role: 'leader', replication: { ...replica.replication!, leaderAddress: '', durability: 'async' } });
    expect(leader).toEqual(['--role', 'leader', '--node-id', 'kg-1', '--grid', 'prod', '--cluster', 'kg', '--term', '4', '--durability', 'async']);
    // A replica whose leader is not known yet follows nobody until told.
    expect(replicationArgs({ ...replica, replication: { ...replica.replication!, leaderAddress: '', term: 0, durability: '' } })).toEqual(['--role', 'replica', '--node-id', 'kg-1', '--grid', 'prod', '--cluster', 'kg']);
  });

  it('reads the settings back from a container\'s labels only when they pass the spawn checks', () => {
    expect(specFromLabels(nodeLabels('prod', 'a1', replica))).toEqual(replica);
    const tampered = nodeLabels('prod', 'a1', { ...replica, replication: { ...replica.replication!, leaderAddress: 'evil host:1 --token-file /etc/shadow' } });
    expect(specFromLabels(tampered)).toEqual({ ...replica, replication: undefined });
  });
});
