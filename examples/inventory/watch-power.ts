// Watch the power state of every VM (watch_power.py: pyvmomi). The watch survives a session
// that dies: it logs in again and reports what changed meanwhile.
import type { VimClient } from '../../src/index.ts';
import { main } from './connect.ts';

// task: begin
export async function watchPower(client: VimClient, onChange: (vm: string, state: unknown) => void, signal?: AbortSignal): Promise<void> {
  for await (const u of client.watch('VirtualMachine', ['runtime.powerState'], { signal })) {
    if (u.kind !== 'leave') onChange(u.ref.value, u.props['runtime.powerState']);
  }
}
// task: end

main(import.meta.url, (client) => watchPower(client, (vm, state) => console.log(vm, state)));
