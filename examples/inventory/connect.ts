// What every example below shares: connect and log in from the command line, run, close.
//   node --import tsx examples/inventory/<example>.ts <sdk-url> <ca.pem> <user>   (password in VC_PASSWORD)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VimClient } from '../../src/index.ts';

/** Runs `task` with a logged-in client when `moduleUrl` is the script node was started with. */
export function main(moduleUrl: string, task: (client: VimClient) => Promise<void>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const [url, ca, username] = process.argv.slice(2);
  const password = process.env.VC_PASSWORD;
  if (!url || !ca || !username || password === undefined) {
    console.error('usage: VC_PASSWORD=… node --import tsx <example>.ts <sdk-url> <ca.pem> <user>');
    process.exit(64);
  }
  void (async () => {
    const client = await VimClient.connect(url, { tls: { ca: readFileSync(ca) } });
    try {
      await client.login({ username, password });
      await task(client);
    } finally {
      await client.close();
    }
  })().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exitCode = 1;
  });
}
