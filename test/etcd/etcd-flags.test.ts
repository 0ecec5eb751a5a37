/** `--store` and the etcd flags are checked before anything starts, naming the flag. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseEtcdStore } from '../../runtime/master/index.js';
import { GridError } from '../../errors/index.js';
import { cleanup, runCli, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

function flagOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof GridError) return `${err.code} ${err.message}`;
    throw err;
  }
  return 'accepted';
}

describe('--store etcd://...', () => {
  it('takes one or several HOST:PORT and refuses anything else, naming --store', () => {
    expect(parseEtcdStore('etcd://127.0.0.1:2379')).toEqual(['127.0.0.1:2379']);
    expect(parseEtcdStore('etcd://a:1,b:2,[::1]:3')).toEqual(['a:1', 'b:2', '[::1]:3']);
    expect(flagOf(() => parseEtcdStore('http://a:1'))).toMatch(/^CONFIG_INVALID --store: expected etcd:\/\//);
    expect(flagOf(() => parseEtcdStore('etcd://a'))).toMatch(/^CONFIG_INVALID --store: "a" is not HOST:PORT/);
    expect(flagOf(() => parseEtcdStore('etcd://a:1,,b:2'))).toMatch(/^CONFIG_INVALID --store: "" is not HOST:PORT/);
    expect(flagOf(() => parseEtcdStore('etcd://a:70000'))).toMatch(/is not HOST:PORT/);
  });

  it('the master refuses etcd flags without --store, and unreadable TLS files, before it serves', async () => {
    const noStore = await runCli(['master', '--data-dir', tempDir(), '--listen', '127.0.0.1:0', '--lease-ttl', '3']);
    expect(noStore.code).not.toBe(0);
    expect(noStore.stderr).toMatch(/--store: is required with --etcd-ca/);
    const badCa = await runCli(['master', '--data-dir', tempDir(), '--listen', '127.0.0.1:0', '--store', 'etcd://127.0.0.1:1', '--etcd-ca', '/nonexistent/ca.pem']);
    expect(badCa.code).not.toBe(0);
    expect(badCa.stderr).toMatch(/--etcd-ca: cannot read \/nonexistent\/ca\.pem/);
  });

  it('with TLS, several masters need the operator-given grid CA: a master that would make its own refuses to start', async () => {
    const own = await runCli(['master', '--data-dir', tempDir(), '--listen', '127.0.0.1:0', '--store', 'etcd://127.0.0.1:1', '--tls', 'on']);
    expect(own.code).not.toBe(0);
    expect(own.stderr).toMatch(/--tls-ca-cert: several masters on --store share one grid CA: give every master the same --tls-ca-cert and --tls-ca-key/);
    // --tls auto turns on off loopback: the same refusal.
    const auto = await runCli(['master', '--data-dir', tempDir(), '--listen', '0.0.0.0:0', '--store', 'etcd://127.0.0.1:1']);
    expect(auto.code).not.toBe(0);
    expect(auto.stderr).toMatch(/--tls-ca-cert: several masters on --store share one grid CA/);
  });
});
