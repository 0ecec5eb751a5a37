/**
 * Hosts for tests, as real Linux network namespaces: `sgt-<rand>-<host>` per host, each with an
 * `eth0` on a private /24 (10.231.X.0/24, X claimed for the TestHosts' lifetime), all plugged into
 * one bridge that lives in its own namespace `sgt-<rand>-br`. A host's link
 * can be cut and healed (its bridge port set down and up). {@link TestHosts.teardown} deletes every
 * namespace the helper made, also after a failure; `ip netns del` of a namespace whose processes
 * still run only removes its name, so tests stop their daemons first.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../helpers/processes.js';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Claims of third octets, one file per octet holding its owner's pid: every TestHosts puts the
 * test's own namespace on its subnet (`.2`), so two alive at once on the same subnet (test files
 * run two at a time) would route the test's calls to the other file's hosts. A pick that was only
 * unlikely to collide once sent a client to another test's master (CI: "self-signed certificate
 * in certificate chain" for 30 s).
 */
const CLAIMS = join(tmpdir(), 'sutra-grid-test-subnets');

/** A claim older than this whose owner is gone is stale (a test process killed before teardown). */
const STALE_CLAIM_MS = 10 * 60_000;

/** Claims a third octet no other live TestHosts of this machine holds; {@link releaseOctet} gives it back. */
function claimOctet(): number {
  mkdirSync(CLAIMS, { recursive: true });
  const start = randomInt(0, 250);
  for (let i = 0; i < 250; i++) {
    const octet = ((start + i) % 250) + 2;
    const file = join(CLAIMS, String(octet));
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return octet;
    } catch {
      // Held: a claim left by a process that died long ago is removed, for a later pick.
      try {
        if (!isAlive(Number(readFileSync(file, 'utf8'))) && Date.now() - statSync(file).mtimeMs > STALE_CLAIM_MS) unlinkSync(file);
      } catch {
        // released meanwhile
      }
    }
  }
  throw new Error(`no free test subnet in 10.231.2-251 (claims in ${CLAIMS})`);
}

function releaseOctet(octet: number): void {
  const file = join(CLAIMS, String(octet));
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) unlinkSync(file);
  } catch {
    // released already
  }
}

/** Namespaces of every TestHosts not yet torn down (an afterEach may rely on it). */
const live = new Set<TestHosts>();

/** A set of hosts linked by one bridge. */
export class TestHosts {
  readonly prefix = `sgt-${randomBytes(3).toString('hex')}`;
  private readonly octet = claimOctet();
  readonly subnet = `10.231.${this.octet}`;
  /** The interface that puts the test's own process on the bridge (`.2`). */
  private readonly hereLink = `sgt${randomBytes(3).toString('hex')}`;
  private readonly hosts = new Map<string, { ns: string; address: string; port: string }>();
  private readonly made: string[] = [];

  private constructor() {}

  /** Creates the bridge and one namespace per host (names of 1-4 letters or digits). */
  static create(names: readonly string[]): TestHosts {
    const t = new TestHosts();
    live.add(t);
    try {
      t.setUp(names);
    } catch (err) {
      t.teardown();
      throw err;
    }
    return t;
  }

  private setUp(names: readonly string[]): void {
    const br = `${this.prefix}-br`;
    ip('netns', 'add', br);
    this.made.push(br);
    ip('-n', br, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', br, 'link', 'set', 'br0', 'up');
    names.forEach((name, i) => {
      if (!/^[a-z0-9]{1,4}$/.test(name)) throw new Error(`host name ${name}: 1-4 lower-case letters or digits`);
      const ns = `${this.prefix}-${name}`;
      ip('netns', 'add', ns);
      this.made.push(ns);
      const port = `p-${name}`;
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', br);
      const address = `${this.subnet}.${i + 10}`;
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', br, 'link', 'set', port, 'master', 'br0');
      ip('-n', br, 'link', 'set', port, 'up');
      this.hosts.set(name, { ns, address, port });
    });
    // The test's own process reaches every host as a client, from `.2`.
    ip('link', 'add', this.hereLink, 'type', 'veth', 'peer', 'name', 'p-here', 'netns', br);
    ip('addr', 'add', `${this.subnet}.2/24`, 'dev', this.hereLink);
    ip('link', 'set', this.hereLink, 'up');
    ip('-n', br, 'link', 'set', 'p-here', 'master', 'br0');
    ip('-n', br, 'link', 'set', 'p-here', 'up');
  }

  private host(name: string): { ns: string; address: string; port: string } {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /** The host's address on the test subnet. */
  address(name: string): string {
    return this.host(name).address;
  }

  /** The command prefix that runs a program on the host. */
  exec(name: string): string[] {
    return ['ip', 'netns', 'exec', this.host(name).ns];
  }

  /** Cuts the host off the network (its bridge port down): packets to and from it are lost. */
  cut(name: string): void {
    ip('-n', `${this.prefix}-br`, 'link', 'set', this.host(name).port, 'down');
  }

  /** Reconnects a cut host. */
  heal(name: string): void {
    ip('-n', `${this.prefix}-br`, 'link', 'set', this.host(name).port, 'up');
  }

  /** Reconnects every host (after a test that may have left one cut). */
  healAll(): void {
    for (const name of this.hosts.keys()) {
      try {
        this.heal(name);
      } catch {
        // its namespace is gone already
      }
    }
  }

  /** Deletes every namespace made (idempotent). */
  teardown(): void {
    live.delete(this);
    try {
      ip('link', 'del', this.hereLink);
    } catch {
      // not made, or gone with the bridge's namespace
    }
    for (const ns of this.made.splice(0).reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    // Only once its route is gone from the test's namespace may another TestHosts take the subnet.
    releaseOctet(this.octet);
  }

  /** Tears down every TestHosts still alive (afterEach safety net). */
  static teardownAll(): void {
    for (const t of [...live]) t.teardown();
  }
}
