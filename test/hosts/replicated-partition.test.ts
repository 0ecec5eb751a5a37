/**
 * A replicated cluster across hosts under mutual TLS (issue 14): three agents, each in its own
 * network namespace, run a leader and two replicas (sync, quorum 1); nodes bind their agent's host
 * and replicate over mutual TLS with certificates of role `node`.
 *
 * The leader's host is cut off for longer than replaceAfter: a replica elsewhere is promoted and the
 * cut-off node is replaced; a probe inside the cut-off host keeps writing to the old leader all
 * along, so that the old leader's own answers show it took no write once the new leader took its
 * first (stamps of one kernel clock: the namespaces share it). After the heal, exactly one copy of
 * each node remains and every acknowledged write is on the new leader.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { eventually, isAlive, tempDir, trackPid } from '../helpers/processes.js';
import { codeOf } from '../helpers/agent-processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { TestHosts } from './netns.js';
import { tearDownHosts, TlsGrid } from './support.js';
import { missingOn, nodeClient, nodeAddress, type ProbeLine } from './node-tls-support.js';

let hosts: TestHosts | undefined;
let grid: TlsGrid | undefined;
let probeProc: ChildProcess | undefined;

afterEach(async () => {
  probeProc?.kill('SIGKILL');
  probeProc = undefined;
  await tearDownHosts(hosts, grid);
  hosts = undefined;
  grid = undefined;
});

/** Runs write-probe.mjs on `host`, writing to `address` with the credential in `dir`. */
function startProbe(h: TestHosts, host: string, address: string, dir: string, prefix: string): { lines: ProbeLine[]; proc: ChildProcess; stop(): Promise<void> } {
  const [cmd, ...pre] = h.exec(host);
  const proc = spawn(cmd!, [...pre, process.execPath, join(import.meta.dirname, 'write-probe.mjs'), address, dir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: ProbeLine[] = [];
  let buf = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as ProbeLine);
    }
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    lines,
    proc,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      if (err !== '') console.log(`write probe stderr: ${err}`);
    },
  };
}

describe('a replicated cluster across hosts, under mutual TLS', () => {
  it('the leader cut off past replaceAfter: a new leader elsewhere, no write taken by two leaders, acknowledged writes kept, one copy of each node after the heal', async () => {
    // GIVEN a leader and two replicas (sync, quorum 1) over agents on three hosts
    hosts = TestHosts.create(['m', 'a1', 'a2', 'a3']);
    grid = new TlsGrid(hosts);
    await grid.start();
    for (const id of ['a1', 'a2', 'a3']) await grid.agent(id, id);
    const c = grid.client(grid.admin());
    await eventually(async () => (await c.listAgents()).agents.length === 3, 30_000);
    const ids = ['a1', 'a2', 'a3'].map((id) => ({ id }));
    const spec = gridSpec(ids, [{ name: 'kg', nodes: 3, topology: 'leader-replicas', placement: 'spread', replication: { durability: 'sync', syncQuorum: 1 } }], { replaceAfter: '3s' });
    await c.applySpec(JSON.stringify(spec));
    const h = hosts;
    const where = (n: NodeInfo): string => nodeAddress(h, n);
    const before = await eventually(async () => {
      const nodes = (await c.listNodes()).nodes.filter((n) => n.cluster === 'kg' && n.status === 'running');
      const leader = nodes.find((n) => n.replication?.role === 'leader');
      const replicas = nodes.filter((n) => n.replication?.role === 'replica');
      const ok = leader !== undefined && replicas.length === 2 && replicas.every((r) => r.replication?.leader === where(leader) && !r.replication.catchingUp);
      return ok ? { leader, replicas, all: nodes } : undefined;
    }, 60_000);
    for (const n of before.all) trackPid(n.pid);
    expect(new Set(before.all.map((n) => n.agentId)).size, 'one node per host').toBe(3);
    const oldLeader = before.leader;
    const oldTerm = oldLeader.replication!.term;
    const operator = grid.credential('operator', 'writer');
    const operatorDir = tempDir('sgt-operator-');
    for (const [f, text] of [['ca.pem', operator.caPem], ['cert.pem', operator.certPem], ['key.pem', operator.keyPem]] as const) writeFileSync(join(operatorDir, f), text ?? '', { mode: 0o600 });

    // ...a client on the network writing to the leader, and a probe on the leader's own host writing to it
    const writer = nodeClient(where(oldLeader), operator);
    const acked: string[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        const r = await codeOf(writer.learnConcept(`w${i}`, `value ${i}`));
        if (r.code === 0) acked.push(`w${i}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    const onOld = startProbe(h, oldLeader.agentId, where(oldLeader), operatorDir, 'old-');
    probeProc = onOld.proc;
    await eventually(() => acked.length >= 30 && onOld.lines.filter((l) => l.ok).length >= 5, 30_000);

    // WHEN the leader's host is cut off for longer than offlineAfter + replaceAfter
    h.cut(oldLeader.agentId);
    const cutAt = Date.now();

    // THEN a replica on another host is promoted in a later term and takes writes
    const newLeader = await eventually(async () => {
      const nodes = (await c.listNodes()).nodes.filter((n) => n.cluster === 'kg' && n.agentId !== oldLeader.agentId && n.status === 'running');
      return nodes.find((n) => n.replication?.role === 'leader' && n.replication.term > oldTerm);
    }, 60_000, 200);
    expect(newLeader.nodeId).not.toBe(oldLeader.nodeId);
    const onNew = nodeClient(where(newLeader), operator);
    const newAccepted: Array<{ id: string; atMs: number }> = [];
    for (let i = 0; newAccepted.length < 5; i++) {
      const id = `new-${i}`;
      const r = await codeOf(onNew.learnConcept(id, 'accepted by the new leader'));
      if (r.code === 0) newAccepted.push({ id, atMs: Number((await onNew.queryConcept(id)).concept?.updatedAtMs ?? 0) });
      else await new Promise((res) => setTimeout(res, 100));
      expect(i, 'the new leader takes writes').toBeLessThan(300);
    }
    writing = false;
    await writes;
    // ...and the cut-off node is replaced on another host
    await eventually(async () => (await c.listNodes()).nodes.some((n) => n.nodeId === oldLeader.nodeId && n.agentId !== oldLeader.agentId && n.status === 'running'), 60_000, 200);

    // WHEN the link heals
    h.heal(oldLeader.agentId);
    // THEN exactly one copy of each node remains, running; the stale copy is stopped
    const healed = await eventually(async () => {
      const nodes = (await c.listNodes()).nodes.filter((n) => n.cluster === 'kg');
      const byId = new Map<string, NodeInfo[]>();
      for (const n of nodes) byId.set(n.nodeId, [...(byId.get(n.nodeId) ?? []), n]);
      const single = byId.size === 3 && [...byId.values()].every((copies) => copies.length === 1 && copies[0]!.status === 'running');
      return single ? nodes : undefined;
    }, 90_000, 250);
    await eventually(() => !isAlive(oldLeader.pid), 30_000);
    await onOld.stop();
    probeProc = undefined;

    // ...the old leader took no write once the new leader had taken its first: never two leaders at once
    const oldAccepted = onOld.lines.filter((l) => l.ok);
    const lastOnOld = Math.max(...oldAccepted.map((l) => l.atMs));
    const firstOnNew = Math.min(...newAccepted.map((a) => a.atMs));
    const refusedAfterCut = onOld.lines.filter((l) => !l.ok && l.atMs > cutAt);
    console.log(`old leader: last accepted write ${lastOnOld - cutAt} ms after the cut, ${refusedAfterCut.length} refused after it (first: ${refusedAfterCut[0]?.details ?? '-'}); new leader's first ${firstOnNew - cutAt} ms after`);
    expect(refusedAfterCut.length, 'the isolated leader refused writes').toBeGreaterThan(0);
    expect(lastOnOld).toBeLessThan(firstOnNew);
    // ...and every acknowledged write is on the new leader (and on every copy once caught up)
    const all = [...acked, ...oldAccepted.map((l) => l.id), ...newAccepted.map((a) => a.id)];
    expect(await missingOn(onNew, all)).toEqual([]);
    const leaders = healed.filter((n) => n.replication?.role === 'leader');
    expect(leaders.map((n) => n.nodeId)).toEqual([newLeader.nodeId]);
    for (const n of healed) await eventually(async () => (await missingOn(nodeClient(where(n), operator), all)).length === 0, 60_000, 500);
    writer.close();
    onNew.close();
  }, 300_000);
});
