// Every VM with its name, power state and host (list_vms.py: the same with pyvmomi).
import type { ManagedObjectReference, VimClient } from '../../src/index.ts';
import { main } from './connect.ts';

// task: begin
export async function listVms(client: VimClient) {
  const rows = await client.retrieve('VirtualMachine', ['name', 'runtime.powerState', 'runtime.host']);
  return rows.map((r) => ({ name: r.name, powerState: r['runtime.powerState'], host: (r['runtime.host'] as ManagedObjectReference | undefined)?.value }));
}
// task: end

main(import.meta.url, async (client) => {
  for (const vm of await listVms(client)) console.log(JSON.stringify(vm));
});
