/**
 * Helpers of the grid replication tests: a declared leader-replicas cluster's nodes as the master
 * lists them, storage clients to them, and a client that writes until told to stop.
 */
import { afterEach } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import type { DeclarativeGrid } from '../declarative/support/declarative-grid.js';

export { missingOn, writeConcepts } from '../storage/support/replication.js';

/** Where a process-platform node serves (its agent's host is 127.0.0.1 in tests). */
export function addressOf(n: NodeInfo): string {
  return `127.0.0.1:${n.port}`;
}

/** A storage-client factory for one test file: every client it made is closed after each test. */
export function storageClients(): (n: NodeInfo | string) => TestStorageClient {
  const open: TestStorageClient[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  return (n) => {
    const c = new TestStorageClient(typeof n === 'string' ? n : addressOf(n));
    open.push(c);
    return c;
  };
}

/** The cluster's running nodes by role, as the master lists them (its agents' reports). */
export async function roles(grid: DeclarativeGrid, cluster: string): Promise<{ leader: NodeInfo | undefined; replicas: NodeInfo[]; all: NodeInfo[] }> {
  const all = (await grid.nodes(cluster)).filter((n) => n.status === 'running');
  return { leader: all.find((n) => n.role === 'leader'), replicas: all.filter((n) => n.role === 'replica'), all };
}

/** Writes `${prefix}<i>` one after another until {@link stop}; remembers every acknowledged id. */
export class ContinuousWriter {
  readonly acked: string[] = [];
  failures = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly client: TestStorageClient, prefix: string) {
    this.done = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const id = `${prefix}${i}`;
        try {
          await this.client.learnConcept(id, `value of ${id}`);
          this.acked.push(id);
        } catch {
          // The leader is gone or refuses: the write was not acknowledged, so nothing is owed.
          this.failures++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
  }

  /** Stops after the write in flight; resolves once it has answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
