// Hand-off example: a parent logs in once and gives each worker process a fresh clone ticket;
// every worker clones a session of its own, so no worker ever sees the password. The ticket
// travels over the IPC channel, not argv or the environment, which other local users can read.
//
//   node --import tsx examples/clone-handoff.ts <sdk-url> <ca.pem> <user> <workers>   (password in VC_PASSWORD)
//
// Tickets are single-use and die with the parent's session, so the parent stays logged in
// until every worker has cloned, and mints one ticket per worker, never caching one.
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VimClient, type ManagedObjectReference } from '../src/index.ts';

const SI: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };

interface Job {
  url: string;
  ca: string;
  ticket: string;
  index: number;
}

export interface WorkerReport {
  index: number;
  userName: string;
  sessionKey: string;
  serverTime: string;
}

async function worker(job: Job): Promise<WorkerReport> {
  const client = await VimClient.connect(job.url, { tls: { ca: job.ca } });
  try {
    const session = await client.cloneSession(job.ticket);
    const now = await client.call('CurrentTime', SI);
    return { index: job.index, userName: session.userName, sessionKey: session.key, serverTime: now.toISOString() };
  } finally {
    await client.close();
  }
}

/**
 * Logs in once, then runs `count` workers, each with a fresh ticket. A worker is this file run
 * with `--worker` (under tsx unless `entry` says how else, e.g. a bundled build of it).
 */
export async function handOff(url: string, ca: string, username: string, password: string, count: number,
  entry: { file: string; execArgv: string[] } = { file: fileURLToPath(import.meta.url), execArgv: ['--import', 'tsx'] }): Promise<{ parentKey: string; workers: WorkerReport[] }> {
  const parent = await VimClient.connect(url, { tls: { ca } });
  try {
    const session = await parent.login({ username, password });
    const runs = [];
    for (let index = 0; index < count; index++) {
      const ticket = await parent.acquireCloneTicket();
      runs.push(new Promise<WorkerReport>((resolve, reject) => {
        const child = fork(entry.file, ['--worker'], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        child.once('message', (report) => resolve(report as WorkerReport));
        child.once('error', reject);
        child.once('exit', (code) => code !== 0 && reject(new Error(`worker ${index} exited with ${code}`)));
        child.send({ url, ca, ticket, index } satisfies Job);
      }));
    }
    return { parentKey: session.key, workers: await Promise.all(runs) };
  } finally {
    await parent.close();
  }
}

if (process.argv[2] === '--worker') {
  process.once('message', (job) => {
    worker(job as Job).then(
      (report) => process.send!(report, () => process.disconnect()),
      (err: unknown) => {
        console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  });
} else if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [url, caFile, user, n] = process.argv.slice(2);
  if (!url || !caFile || !user) {
    console.error('usage: clone-handoff.ts <sdk-url> <ca.pem> <user> [workers]   (password in VC_PASSWORD)');
    process.exit(2);
  }
  const result = await handOff(url, readFileSync(caFile, 'utf8'), user, process.env.VC_PASSWORD ?? '', Number(n ?? 4));
  for (const w of result.workers) console.log(`worker ${w.index}: ${w.userName}, own session, server time ${w.serverTime}`);
}
