// Power a VM off and wait for the task, with progress and a deadline (power_off.py: pyvmomi).
import type { ManagedObjectReference, VimClient } from '../../src/index.ts';
import { main } from './connect.ts';

// task: begin
export async function powerOff(client: VimClient, vm: ManagedObjectReference<'VirtualMachine'>, onProgress: (percent: number) => void): Promise<void> {
  const task = await client.call('PowerOffVM_Task', vm, {});
  await client.waitForTask(task, { onProgress, timeoutMs: 10 * 60_000 }); // a failure rejects with its VimFault
}
// task: end

main(import.meta.url, async (client) => {
  const [vm] = await client.find('VirtualMachine', process.argv[5] ?? '/DC0/vm/DC0_H0_VM0');
  if (!vm) throw new Error('no such VM');
  await powerOff(client, vm, (percent) => console.log(`${percent}%`));
});
