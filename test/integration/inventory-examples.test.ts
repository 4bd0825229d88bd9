// The examples of examples/inventory, each run with vim25-soap and its pyvmomi counterpart
// against one harness of this file's own (they power VMs off): both must see the same.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManagedObjectReference, VimClient } from 'vim25-soap';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { loggedIn, ownHarness } from '../harness/inventory.ts';
import { pythonOk } from '../peers/python.ts';
import { findByPath } from '../../examples/inventory/find-by-path.ts';
import { listVms } from '../../examples/inventory/list-vms.ts';
import { powerOff } from '../../examples/inventory/power-off.ts';
import { recentEvents } from '../../examples/inventory/recent-events.ts';
import { watchPower } from '../../examples/inventory/watch-power.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/inventory/', import.meta.url));
let info: HarnessInfo;
let c: VimClient;

beforeAll(async () => {
  info = (await ownHarness({ inventory: { datacenters: 1, clusters: 1, hostsPerCluster: 1, standaloneHosts: 1, vms: 2 } })).info;
  c = await loggedIn(info);
});

/** Runs examples/inventory/<script>.py with Debian's pyvmomi; its stdout lines. */
async function pyvmomi(script: string, ...args: string[]): Promise<string[]> {
  const out = await pythonOk([`${EXAMPLES}${script}.py`, info.url, info.certFile, info.username, ...args], { env: exampleEnv() });
  return out.split('\n').filter((l) => l !== '');
}

const exampleEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', VC_PASSWORD: info.password });

describe('examples/inventory, side by side with pyvmomi', () => {
  it('list-vms', async () => {
    const ours = (await listVms(c)).map((v) => JSON.stringify({ name: v.name, powerState: v.powerState, host: v.host ?? null }));
    expect(ours.length).toBe(4);
    expect(ours.sort()).toEqual((await pyvmomi('list_vms')).sort());
  });

  it('find-by-path', async () => {
    for (const pattern of ['/DC0/vm/*VM1', '/DC0/vm/nothing*']) {
      expect((await findByPath(c, pattern)).map((r) => r.value).sort()).toEqual((await pyvmomi('find_by_path', pattern)).sort());
    }
  });

  it('power-off, then recent-events', async () => {
    const [a, b] = (await findByPath(c, '/DC0/vm/*')).map((r) => c.ref(r, 'VirtualMachine')) as [ManagedObjectReference<'VirtualMachine'>, ManagedObjectReference<'VirtualMachine'>];
    const progress: number[] = [];
    await powerOff(c, a, (p) => progress.push(p));
    expect(progress).toEqual([100]);
    const pathOf = async (vm: ManagedObjectReference<'VirtualMachine'>) => `DC0/vm/${String((await c.retrieveOne(vm, ['name'])).name)}`;
    expect(await pyvmomi('power_off', await pathOf(b))).toEqual(['100%']);
    const states = await c.retrieve('VirtualMachine', ['runtime.powerState']);
    expect(states.filter((r) => r.ref.value === a.value || r.ref.value === b.value).map((r) => r['runtime.powerState'])).toEqual(['poweredOff', 'poweredOff']);

    const offs = (lines: string[]) => lines.filter((l) => l.startsWith('VmPoweredOffEvent: ')).sort();
    const ours = offs(await recentEvents(c, 10));
    expect(ours).toHaveLength(2);
    expect(offs(await pyvmomi('recent_events', '10'))).toEqual(ours);
  });

  it('watch-power reports the state of every VM first', async () => {
    const ctrl = new AbortController();
    const seen: string[] = [];
    const vms = (await listVms(c)).length;
    await watchPower(c, (vm, state) => {
      seen.push(`${vm} ${String(state)}`);
      if (seen.length === vms) ctrl.abort();
    }, ctrl.signal).catch((err: unknown) => {
      if (!ctrl.signal.aborted) throw err;
    });
    const py = (await pythonOk(['-c', `import sys; sys.path.insert(0, ${JSON.stringify(EXAMPLES)}); sys.argv = ['x'] + sys.argv[1:]
from connect import connect
from watch_power import watch_power
watch_power(connect(), lambda vm, state: print(vm, state), max_updates=${vms})`, info.url, info.certFile, info.username], { env: exampleEnv() })).split('\n').filter(Boolean);
    expect(seen.sort()).toEqual(py.sort());
  });
});
