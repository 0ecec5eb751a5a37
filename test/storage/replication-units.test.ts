/**
 * The pieces of replication that need no process: the term runs of a log, the flags, the term file
 * and the starting assignment, the quorum, and the store's read gate, replicated appends and
 * truncation.
 */
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConceptStore } from '../../runtime/storage/concept-store.js';
import { encodeRecord } from '../../runtime/storage/log-record.js';
import { QuorumTracker } from '../../runtime/storage/quorum-tracker.js';
import { unframe } from '../../runtime/storage/record-log.js';
import { compileReplicationFlags } from '../../runtime/storage/replication-options.js';
import { startingAssignment, TermFile, type RoleAssignment } from '../../runtime/storage/term-file.js';
import { TermHistory } from '../../runtime/storage/term-history.js';
import { cleanup, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

describe('term history', () => {
  it('answers the term at a position and the end of a term', () => {
    const h = new TermHistory();
    for (const t of [0, 0, 1, 1, 1, 3, 3]) h.append(t);
    expect([h.length, h.lastTerm, h.lastRunStart]).toEqual([7, 3, 6]);
    expect([0, 1, 2, 3, 5, 6, 7, 8].map((p) => h.termAt(p))).toEqual([undefined, 0, 0, 1, 1, 3, 3, undefined]);
    // The highest term at most T, and how many records have a term at most that.
    expect(h.endOf(2)).toEqual({ term: 1, end: 5 });
    expect(h.endOf(3)).toEqual({ term: 3, end: 7 });
    expect(h.endOf(9)).toEqual({ term: 3, end: 7 });
    expect(h.endOf(0)).toEqual({ term: 0, end: 2 });
    h.truncate(4);
    expect([h.length, h.lastTerm, h.termAt(4), h.termAt(5)]).toEqual([4, 1, 1, undefined]);
    expect(() => h.append(0)).toThrow(/term 0 after 1/);
  });
});

describe('replication flags', () => {
  it('default to a standalone node in term 0, as before roles existed', () => {
    expect(compileReplicationFlags({})).toMatchObject({ role: 'standalone', term: 0, leader: '', durability: 'async', syncQuorum: 1, syncTimeoutMs: 5000 });
    expect(compileReplicationFlags({ role: 'replica', leader: '127.0.0.1:5000', nodeId: 'kg-1' })).toMatchObject({ role: 'replica', term: 1 });
    // A replica spawned before its leader has an address: it follows nobody until SetRole names one.
    expect(compileReplicationFlags({ role: 'replica', nodeId: 'kg-1', term: '3' })).toMatchObject({ role: 'replica', leader: '', term: 3 });
    expect(compileReplicationFlags({ role: 'leader', durability: 'sync', syncQuorum: '2', syncTimeout: '750ms', term: '4' })).toMatchObject({
      term: 4,
      durability: 'sync',
      syncQuorum: 2,
      syncTimeoutMs: 750,
    });
  });

  it.each([
    [{ role: 'primary' }, '--role'],
    [{ role: 'replica', leader: '127.0.0.1:1' }, '--node-id'],
    [{ role: 'replica', nodeId: 'kg-1', leader: 'nohost' }, '--leader'],
    [{ role: 'replica', nodeId: 'kg-1', leader: '127.0.0.1:0' }, '--leader'],
    [{ role: 'leader', leader: '127.0.0.1:1' }, '--leader'],
    [{ role: 'leader', term: '0' }, '--term'],
    [{ role: 'leader', term: '99999999999999999' }, '--term'],
    [{ role: 'leader', durability: 'eventual' }, '--durability'],
    [{ durability: 'sync' }, '--durability'],
    [{ role: 'leader', durability: 'sync', syncQuorum: '0' }, '--sync-quorum'],
    [{ role: 'leader', syncQuorum: '1' }, '--sync-quorum'],
    [{ role: 'leader', durability: 'sync', syncTimeout: 'soon' }, '--sync-timeout'],
    [{ role: 'leader', durability: 'sync', syncTimeout: '1ms' }, '--sync-timeout'],
    [{ nodeId: 'x'.repeat(64) }, '--node-id'],
    [{ grid: 'a b' }, '--grid'],
    [{ cluster: '' }, '--cluster'],
  ])('refuses %j naming %s', (flags, flag) => {
    expect(() => compileReplicationFlags(flags)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', context: { field: flag } }));
  });
});

const leader1: RoleAssignment = { role: 'leader', leader: '', term: 1, durability: 'async', syncQuorum: 1 };

describe('term file and starting assignment', () => {
  it('round-trips atomically, refuses damage and symbolic links', async () => {
    const dir = tempDir('term-');
    const f = new TermFile(dir);
    expect(await f.read()).toBeUndefined();
    await Promise.all([f.write(leader1), f.write({ ...leader1, role: 'replica', leader: 'h:1', term: 2 })]);
    expect(await f.read()).toEqual({ ...leader1, role: 'replica', leader: 'h:1', term: 2 });
    expect(existsSync(join(dir, '.term.json.tmp'))).toBe(false);
    writeFileSync(f.path, '{"term": 3');
    await expect(f.read()).rejects.toMatchObject({ code: 'STATE_DAMAGED', context: { file: f.path } });
    writeFileSync(f.path, JSON.stringify({ ...leader1, term: -1 }));
    await expect(f.read()).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
    const elsewhere = join(tempDir('elsewhere-'), 'target.json');
    writeFileSync(elsewhere, JSON.stringify(leader1));
    const linked = tempDir('term-');
    symlinkSync(elsewhere, join(linked, 'term.json'));
    await expect(new TermFile(linked).read()).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
    // Writing replaces the link itself; the file it pointed to is untouched.
    await new TermFile(linked).write({ ...leader1, term: 5 });
    expect(JSON.parse(readFileSync(elsewhere, 'utf8'))).toEqual(leader1);
    expect((await new TermFile(linked).read())?.term).toBe(5);
  });

  it('keeps what the node last accepted over stale flags, and deposes a leader whose log is ahead of its term', () => {
    const replica2: RoleAssignment = { role: 'replica', leader: 'b:1', term: 2, durability: 'async', syncQuorum: 1 };
    // An agent restarting a deposed leader with its first flags: term.json wins.
    expect(startingAssignment(leader1, replica2, 1).assignment).toEqual(replica2);
    // Flags of a later term win.
    expect(startingAssignment({ ...leader1, term: 3 }, replica2, 2).assignment).toEqual({ ...leader1, term: 3 });
    expect(startingAssignment(leader1, undefined, 0)).toEqual({ assignment: leader1, note: '' });
    // Records of term 4 in the log: someone led after term 1; this node must not lead it again.
    const deposed = startingAssignment(leader1, undefined, 4);
    expect(deposed.assignment).toEqual({ ...leader1, role: 'replica', leader: '', term: 4 });
    expect(deposed.note).toMatch(/deposed/);
  });

  it('starts a node spawned standalone as standalone, whatever an earlier node left in its data directory', () => {
    // (The plan truth property test found it: a standalone cluster re-created with the name of a
    // removed leader-replicas one reused c1-1's data directory, and its replica term file made the
    // new node exit for want of a --node-id.)
    const standalone: RoleAssignment = { role: 'standalone', leader: '', term: 0, durability: 'async', syncQuorum: 1 };
    const replica2: RoleAssignment = { role: 'replica', leader: 'b:1', term: 2, durability: 'sync', syncQuorum: 1 };
    for (const left of [replica2, leader1]) {
      const start = startingAssignment(standalone, left, 2);
      expect(start.assignment).toEqual(standalone);
      expect(start.note).toMatch(/left by an earlier node with this data directory: starting standalone/);
    }
    expect(startingAssignment(standalone, undefined, 0)).toEqual({ assignment: standalone, note: '' });
  });
});

describe('quorum tracker', () => {
  it('commits what the quorum holds, and fails writes the quorum does not answer in time', async () => {
    const q = new QuorumTracker(2);
    const commits: number[] = [];
    q.onCommit = (p) => commits.push(p);
    const w5 = q.waitFor(5, 10_000);
    q.ack('a', 7);
    expect(q.commitPosition).toBe(0);
    q.ack('b', 5);
    await w5;
    expect([q.commitPosition, commits]).toEqual([5, [5]]);
    q.ack('a', 3); // never back
    expect(q.ackedBy('a')).toBe(7);
    await expect(q.waitFor(9, 50)).rejects.toMatchObject({ code: 'QUORUM_UNAVAILABLE', context: { position: 9, quorum: 2 } });
    const w8 = q.waitFor(8, 10_000);
    q.failAll('gone');
    await expect(w8).rejects.toMatchObject({ code: 'QUORUM_UNAVAILABLE' });
    q.setQuorum(1);
    expect(q.commitPosition).toBe(7);
  });

  it('counts two processes of one node (a moving replica) once toward the quorum', () => {
    const q = new QuorumTracker(2);
    q.ack('kg-1\u0000old', 9);
    q.ack('kg-1\u0000new', 9);
    expect(q.commitPosition).toBe(0);
    q.ack('kg-2\u0000x', 4);
    expect(q.commitPosition).toBe(4);
    q.forget('kg-1\u0000old');
    q.ack('kg-2\u0000x', 9);
    expect(q.commitPosition).toBe(9);
  });
});

describe('concept store replication', () => {
  it('a sync leader shows a write only once committed; releasing shows all', async () => {
    const { store } = await ConceptStore.open(tempDir('store-'));
    await store.learnConcept('a', 'alpha', {}, 1);
    store.holdReads();
    const r = await store.learnConcept('b', 'beta', {}, 1);
    expect([r.position, store.position, store.appliedPosition, store.getConcept('b')]).toEqual([2, 2, 1, undefined]);
    // The same write again waits on the record in flight, and reports it.
    expect(await store.learnConcept('b', 'beta', {}, 1)).toEqual({ id: 'b', created: false, position: 2 });
    store.commit(2);
    expect(store.getConcept('b')?.content).toBe('beta');
    await store.learnConcept('c', 'gamma', {}, 1);
    store.releaseReads();
    expect(store.getConcept('c')?.content).toBe('gamma');
    await store.close();
  });

  it('appends a leader\'s records only in order, valid and in non-decreasing terms', async () => {
    const { store } = await ConceptStore.open(tempDir('store-'));
    const rec = (id: string, e: number) => encodeRecord({ t: 'c', e, id, content: id, attributes: {}, createdAtMs: 1, updatedAtMs: 1 });
    expect(await store.appendReplicated([rec('a', 1), rec('b', 2)], 1, 2)).toBe(2);
    await expect(store.appendReplicated([rec('c', 2)], 5, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', context: { field: 'first_position' } });
    await expect(store.appendReplicated([rec('c', 1)], 3, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.appendReplicated([rec('c', 3)], 3, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.appendReplicated([Buffer.from('{"t":"c","id":""}')], 3, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.appendReplicated([Buffer.from('nope')], 3, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect([store.position, store.getConcept('b')?.content, store.lastLogTerm]).toEqual([2, 'b', 2]);
    await store.close();
  });

  it('cuts back to a prefix, setting the removed records aside, and rebuilds its state', async () => {
    const dir = tempDir('store-');
    const { store } = await ConceptStore.open(dir);
    await store.learnConcept('a', 'one', {}, 1);
    await store.learnConcept('b', 'two', {}, 1);
    await store.learnConcept('a', 'three', {}, 1);
    const { removed, asidePath } = await store.truncateTo(1);
    expect(removed).toBe(2);
    expect([store.position, store.getConcept('a')?.content, store.getConcept('b')]).toEqual([1, 'one', undefined]);
    expect(unframe(readFileSync(asidePath)).payloads.map((p) => (JSON.parse(p.toString()) as { content: string }).content)).toEqual(['two', 'three']);
    await store.learnConcept('c', 'four', {}, 2);
    await store.close();
    const again = await ConceptStore.open(dir);
    expect([again.store.position, again.store.getConcept('c')?.content, again.store.lastLogTerm]).toEqual([2, 'four', 2]);
    await again.store.close();
  });
});
