/**
 * The channel target a master client dials: an IP literal goes to grpc-js' IP resolver (no c-ares
 * resolver is made for it), a host name to DNS, and a call through either reaches the same master.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { channelTarget } from '../../client/channel-target.js';
import { withMaster } from '../../client/index.js';
import { cleanup, startMaster } from '../helpers/processes.js';

afterEach(cleanup);

describe('channelTarget', () => {
  it('names IPv4 and bracketed IPv6 literals with the IP schemes', () => {
    expect(channelTarget('127.0.0.1:7000')).toBe('ipv4:127.0.0.1:7000');
    expect(channelTarget('10.1.2.3:1')).toBe('ipv4:10.1.2.3:1');
    expect(channelTarget('[::1]:7000')).toBe('ipv6:[::1]:7000');
    expect(channelTarget('[fe80::1:2]:7000')).toBe('ipv6:[fe80::1:2]:7000');
  });

  it('leaves host names, and anything that is not HOST:PORT, to the default (DNS) resolver', () => {
    expect(channelTarget('localhost:7000')).toBe('localhost:7000');
    expect(channelTarget('master.grid.internal:7000')).toBe('master.grid.internal:7000');
    expect(channelTarget('127.0.0.1')).toBe('127.0.0.1');
    expect(channelTarget('[not-an-ip]:7000')).toBe('[not-an-ip]:7000');
    expect(channelTarget('::1:7000')).toBe('::1:7000');
    expect(channelTarget(':7000')).toBe(':7000');
  });

  it('reaches the same master by IP address and by host name', async () => {
    const master = await startMaster();
    const port = master.address.slice(master.address.lastIndexOf(':') + 1);
    const byIp = await withMaster({ address: `127.0.0.1:${port}` }, (m) => m.getClusterStatus());
    const byName = await withMaster({ address: `localhost:${port}` }, (m) => m.getClusterStatus());
    expect(byName.health).toBe(byIp.health);
    expect(byName.agentsTotal).toBe(byIp.agentsTotal);
  });
});
