// Server options: TLS certificate and thumbprints, the sdkTunnel proxy, idle timeout,
// inventory size, and the accepted password (with its run-time switch).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { harnessRequest, harnessReset, harnessSetPassword, harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { currentTime, login, ownHarness, rawRequest, ref, rest, sessionOf, soap, SI, text, tunnelSocket } from './raw.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TLS', () => {
  const harness = ownHarness();

  it('serves the certificate in certFile, whose thumbprints are in the ready line', async () => {
    const h = harness().info;
    const pem = new X509Certificate(readFileSync(h.certFile));
    expect(pem.fingerprint).toBe(h.sha1);
    expect(pem.fingerprint256).toBe(h.sha256);
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const url = new URL(h.url);
      const s = tls.connect({ host: url.hostname, port: Number(url.port), ca: readFileSync(h.certFile) }, () => {
        resolve(s.getPeerCertificate());
        s.end();
      });
      s.on('error', reject);
    });
    expect(peer.fingerprint256).toBe(h.sha256);
  });

  it('is refused by a client that does not trust it', async () => {
    const h = harness().info;
    const url = new URL(h.url);
    const err = await new Promise<Error>((resolve) => {
      const s = tls.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(new Error('connected')));
      s.on('error', resolve);
    });
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });
});

describe('sdkTunnel proxy', () => {
  const harness = ownHarness();

  it('tunnels CONNECT sdkTunnel:8089 to the SOAP endpoint and counts the tunnel', async () => {
    const h = harness().info;
    const before = await harnessStats(h);
    const socket = await tunnelSocket(h);
    const res = await soap(h, 'RetrieveServiceContent', SI, { socket });
    expect(res.status).toBe(200);
    expect(text(res.body, 'instanceUuid')).toBe(h.instanceUuid);
    const after = await harnessStats(h);
    expect(after.tunnels - before.tunnels).toBe(1);
    expect(after.tunnelsRefused).toBe(before.tunnelsRefused);
  });

  it('refuses any other target with 403, and other methods with 405', async () => {
    const h = harness().info;
    const before = await harnessStats(h);
    await expect(tunnelSocket(h, {}, 'vc.example.com:443')).rejects.toMatchObject({ status: 403 });
    await expect(tunnelSocket(h, {}, 'sdkTunnel:443')).rejects.toMatchObject({ status: 403 });
    const get = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: h.tunnelPort, path: '/sdk', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(get).toBe(405);
    const after = await harnessStats(h);
    expect(after.tunnels).toBe(before.tunnels);
    expect(after.tunnelsRefused - before.tunnelsRefused).toBe(2);
  });
});

describe('session idle timeout', () => {
  const harness = ownHarness({ idleTimeout: '400ms' });

  it('keeps a session while it is used and ends it once idle for longer than the timeout', async () => {
    const h = harness().info;
    const session = await sessionOf(h);
    expect((await currentTime(h, session)).status).toBe(200);
    expect((await harnessStats(h)).sessions).toBe(1);
    // vcsim ends an idle session on a timer of its own, one to two timeouts after its last call.
    while ((await harnessStats(h)).sessions !== 0) await sleep(25);
    const res = await currentTime(h, session);
    expect(res.status).toBe(500);
    expect(res.fault).toBe('NotAuthenticated');
    expect((await harnessStats(h)).sessions).toBe(0);
  });
});

async function inventory(h: HarnessInfo, session: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of ['Datacenter', 'ClusterComputeResource', 'HostSystem', 'VirtualMachine']) {
    const view = await soap(h, 'CreateContainerView',
      `${ref('ViewManager', 'ViewManager')}${ref('Folder', 'group-d1', 'container')}<type>${type}</type><recursive>true</recursive>`, { session });
    const viewRef = text(view.body, 'returnval');
    expect(viewRef, view.body).toBeTruthy();
    const res = await soap(h, 'RetrievePropertiesEx',
      `${ref('PropertyCollector', 'propertyCollector')}<specSet><propSet><type>ContainerView</type><pathSet>view</pathSet></propSet>` +
      `<objectSet>${ref('ContainerView', viewRef!, 'obj')}</objectSet></specSet><options/>`, { session });
    counts[type] = res.body.split(`type="${type}"`).length - 1;
  }
  return counts;
}

describe('inventory size', () => {
  const small = ownHarness();
  const large = ownHarness({ inventory: { datacenters: 2, clusters: 2, hostsPerCluster: 1, standaloneHosts: 1, vms: 1 } });

  it('maps datacenters, clusters, hosts per cluster, standalone hosts and VMs to vcsim\'s model', async () => {
    const h = large().info;
    // Per datacenter: 2 clusters of 1 host, 1 standalone host; 1 VM per standalone host and per cluster.
    expect(await inventory(h, await sessionOf(h))).toEqual({ Datacenter: 2, ClusterComputeResource: 4, HostSystem: 6, VirtualMachine: 6 });
  });

  it('gives a different inventory for different options', async () => {
    const h = small().info;
    expect(await inventory(h, await sessionOf(h))).toEqual({ Datacenter: 1, ClusterComputeResource: 1, HostSystem: 1, VirtualMachine: 1 });
  });
});

describe('accepted user and password', () => {
  const harness = ownHarness({ username: 'administrator@vsphere.local', password: 'Initial-1' });

  it('accepts exactly the configured credentials', async () => {
    const h = harness().info;
    expect(h.username).toBe('administrator@vsphere.local');
    expect((await login(h)).status).toBe(200);
    expect((await login(h, h.username, 'wrong')).fault).toBe('InvalidLogin');
    expect((await login(h, 'user', h.password)).fault).toBe('InvalidLogin');
  });

  it('changes the accepted password at run time, so re-login fails; reset restores it', async () => {
    const h = harness().info;
    const before = await sessionOf(h);
    await harnessSetPassword(h, 'Rotated-2');
    expect((await login(h)).fault).toBe('InvalidLogin');
    expect((await rest(h, 'POST', '/api/session', { headers: { authorization: `Basic ${Buffer.from(`${h.username}:${h.password}`).toString('base64')}` } })).status).toBe(401);
    expect((await login(h, h.username, 'Rotated-2')).status).toBe(200);
    // Sessions made before the change live on, as on vCenter.
    expect((await currentTime(h, before)).status).toBe(200);
    await harnessReset(h);
    expect((await login(h)).status).toBe(200);
    expect((await login(h, h.username, 'Rotated-2')).fault).toBe('InvalidLogin');
  });

  it('rejects a password change without a password, or not POSTed', async () => {
    const h = harness().info;
    await expect(harnessRequest(h, 'POST', '/_harness/password', {})).rejects.toThrow(/HTTP 400/);
    await expect(harnessRequest(h, 'POST', '/_harness/password', { password: '' })).rejects.toThrow(/HTTP 400/);
    await expect(harnessRequest(h, 'GET', '/_harness/password')).rejects.toThrow(/HTTP 405/);
    expect((await login(h)).status).toBe(200);
  });

  it('serves the control routes on the main URL too', async () => {
    const h = harness().info;
    const res = await rawRequest(h, '/_harness/stats');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('sessions');
  });
});
