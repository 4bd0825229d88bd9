// A fleet of N processes starting at once (issue 19): Logins reaching the server, sessions left
// on it, and wall time until every process has a session, with each process logging in on its
// own and with the RedisSessionStore. Processes are test/harness/fleet-child.ts (bundled once,
// plain node), against one vcsim harness and a private redis-server; medians of --runs rounds.
//
// The warm rows start a fleet again on the same key, so they adopt the stored session.
//
//   npx tsx bench/fleet-start.ts [--processes 8] [--runs 3]
import os from 'node:os';
import { bundleDir } from '../scripts/lib/paths.ts';
import { FleetProcess } from '../test/harness/fleet.ts';
import type { StoreSpec } from '../test/harness/fleet-child.ts';
import { RedisServer } from '../test/harness/redis.ts';
import { Harness, harnessStats } from '../test/harness/vcsim.ts';

const arg = (name: string, fallback: string): number => {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 ? process.argv[i + 1]! : fallback);
};
const processes = arg('processes', '8');
const runs = arg('runs', '3');

const [h, redis] = await Promise.all([Harness.start({ wsdlDir: bundleDir(), captureDir: '' }), RedisServer.start()]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Round { logins: number; sessions: number; left: number; wallMs: number; loginPhaseMs: number }

async function round(store: StoreSpec): Promise<Round> {
  const before = await harnessStats(h.info);
  const ps = Array.from({ length: processes }, () => FleetProcess.spawn());
  const t0 = performance.now();
  const ready = await Promise.all(ps.map((p) => p.start({ url: h.info.url, ca: h.ca.toString(), username: h.info.username, password: h.info.password, store })));
  const wallMs = performance.now() - t0;
  const after = await harnessStats(h.info);
  await Promise.all(ps.map((p) => p.close()));
  const closed = await harnessStats(h.info);
  return {
    logins: (after.methods.Login ?? 0) - (before.methods.Login ?? 0),
    sessions: after.sessions - before.sessions,
    left: closed.sessions - before.sessions,
    wallMs: Math.round(wallMs),
    loginPhaseMs: Math.max(...ready.map((r) => r.ms)),
  };
}

const results: Record<string, Round[]> = { own: [], redis: [], warm: [] };
try {
  for (let i = 0; i < runs; i++) {
    results.own!.push(await round({ kind: 'none' }));
    // A fresh prefix per round: a cold start, nobody's session in the store yet.
    results.redis!.push(await round({ kind: 'redis', url: redis.url, prefix: `bench${i}:` }));
    // A warm start: the fleet's session from the round before is still stored (close() kept it).
    results.warm!.push(await round({ kind: 'redis', url: redis.url, prefix: `bench${i}:` }));
  }
} finally {
  await Promise.all([h.stop(), redis.stop()]);
}

console.log(`fleet of ${processes} processes starting, ${runs} rounds, medians (load average ${os.loadavg()[0]!.toFixed(1)}, ${os.cpus().length} cores)`);
console.log('| store | Logins | sessions on the server | left after every close() | wall time to all ready | slowest connect+login |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, rs] of Object.entries(results)) {
  const label = { own: 'none (each logs in)', redis: 'RedisSessionStore, cold', warm: 'RedisSessionStore, warm (session stored)' }[name];
  console.log(`| ${label} | ${median(rs.map((r) => r.logins))} | ${median(rs.map((r) => r.sessions))} | ${median(rs.map((r) => r.left))} | ${median(rs.map((r) => r.wallMs))} ms | ${median(rs.map((r) => r.loginPhaseMs))} ms |`);
}
console.log(JSON.stringify(results));
