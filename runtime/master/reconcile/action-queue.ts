/**
 * Runs reconcile actions with a global bound and a bound per agent, in FIFO order per agent. An
 * agent whose calls hang (SIGSTOPped, on a dead network path) holds at most its own share of the
 * slots: the work queued for every other agent keeps going.
 */

interface Job {
  /** Agents the job calls; it needs a free slot on each. Empty: no agent call (e.g. a promotion). */
  readonly agents: readonly string[];
  readonly run: () => Promise<void>;
  readonly done: () => void;
}

/** Global and per-agent bounds of {@link ActionQueue}. */
export interface ActionQueueLimits {
  /** Jobs running at once, all agents together. */
  readonly total: number;
  /** Jobs running at once that call the same agent. */
  readonly perAgent: number;
}

export class ActionQueue {
  /** Waiting jobs, one FIFO per first agent ('' for jobs calling none). */
  private readonly waiting = new Map<string, Job[]>();
  private readonly busy = new Map<string, number>();
  private running = 0;

  constructor(private readonly limits: ActionQueueLimits) {}

  /** Jobs started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Queues `run`; resolves once it has run (it must not throw). */
  add(agents: readonly string[], run: () => Promise<void>): Promise<void> {
    return new Promise((done) => {
      const key = agents[0] ?? '';
      const list = this.waiting.get(key);
      const job: Job = { agents, run, done };
      if (list) list.push(job);
      else this.waiting.set(key, [job]);
      this.dispatch();
    });
  }

  private free(agents: readonly string[]): boolean {
    return agents.every((a) => (this.busy.get(a) ?? 0) < this.limits.perAgent);
  }

  /** Starts what the bounds allow, taking each agent's queue in turn (cost: agents with work). */
  private dispatch(): void {
    for (const [key, list] of this.waiting) {
      while (this.running < this.limits.total && list.length > 0 && this.free(list[0]!.agents)) this.start(list.shift()!);
      if (list.length === 0) this.waiting.delete(key);
      if (this.running >= this.limits.total) return;
    }
  }

  private start(job: Job): void {
    this.running++;
    for (const a of job.agents) this.busy.set(a, (this.busy.get(a) ?? 0) + 1);
    void job.run().finally(() => {
      this.running--;
      for (const a of job.agents) {
        const n = (this.busy.get(a) ?? 1) - 1;
        if (n === 0) this.busy.delete(a);
        else this.busy.set(a, n);
      }
      job.done();
      this.dispatch();
    });
  }
}
