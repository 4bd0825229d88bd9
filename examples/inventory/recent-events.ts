// The events of the last minutes (recent_events.py: pyvmomi).
import type { VimClient } from '../../src/index.ts';
import { main } from './connect.ts';

// task: begin
export async function recentEvents(client: VimClient, minutes: number) {
  const out: string[] = [];
  for await (const e of client.events({ since: new Date(Date.now() - minutes * 60_000) })) out.push(`${e._typeName}: ${e.fullFormattedMessage ?? ''}`);
  return out;
}
// task: end

main(import.meta.url, async (client) => {
  for (const line of await recentEvents(client, Number(process.argv[5] ?? 10))) console.log(line);
});
