// VMs by inventory path, with globs (find_by_path.py: pyvmomi).
import type { VimClient } from '../../src/index.ts';
import { main } from './connect.ts';

// task: begin
export async function findByPath(client: VimClient, pattern: string) {
  return client.find('VirtualMachine', pattern); // '/DC0/vm/web-*', 'vm/db-?', '/DC0/.../app*', a name or a moref id
}
// task: end

main(import.meta.url, async (client) => {
  for (const ref of await findByPath(client, process.argv[5] ?? '/DC0/vm/*')) console.log(ref.value);
});
