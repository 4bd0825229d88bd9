// What vim25-soap/node-soap costs a process (README, "node-soap, for integrations"): importing
// the main entry vs the subpath, the first createSoapClient (node-soap parses the full WSDL) and
// a second one (the shared parse). Each run is a fresh process against one harness; medians.
//
//   npx tsx bench/node-soap-cost.ts [--runs 5] [--wsdl bundle|server]
import { execFile } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { bundleDir, ROOT } from '../scripts/lib/paths.ts';
import { Harness } from '../test/harness/vcsim.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const runs = Number(arg('runs', '5'));
const source = arg('wsdl', 'bundle');

// One measured process: node-soap's module and the WSDL parse are per process, so each run starts fresh.
const child = `
  const mb = () => process.memoryUsage().rss / 2 ** 20;
  // CPU time as well as wall time: on a shared machine the wall time grows with the load, the CPU time much less.
  const cpu = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { VimClient } = await import(${JSON.stringify(join(ROOT, 'dist/index.js'))});
  const main = { ms: performance.now() - t0, cpu: cpu(c0), rss: mb() };
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const { createSoapClient } = await import(${JSON.stringify(join(ROOT, 'dist/node-soap/index.js'))});
  const subpath = { ms: performance.now() - t1, cpu: cpu(c1), rss: mb() };
  const { readFileSync } = await import('node:fs');
  const vim = await VimClient.connect(process.env.URL, { tls: { ca: readFileSync(process.env.CA) } });
  await vim.login({ username: process.env.U, password: process.env.P });
  const wsdl = process.env.WSDL || undefined;
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const a = await createSoapClient(vim, { wsdl });
  const first = { ms: performance.now() - t2, cpu: cpu(c2), rss: mb() };
  const t3 = performance.now();
  const c3 = process.cpuUsage();
  const b = await createSoapClient(vim, { wsdl });
  const second = { ms: performance.now() - t3, cpu: cpu(c3), rss: mb() };
  globalThis.gc?.();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  await a.CurrentTimeAsync({ _this: { attributes: { type: 'ServiceInstance' }, $value: 'ServiceInstance' } });
  await b.CurrentTimeAsync({ _this: { attributes: { type: 'ServiceInstance' }, $value: 'ServiceInstance' } });
  await vim.close();
  console.log(JSON.stringify({ main, subpath, first, second, heapAfterGc: heap }));
`;

type Step = { ms: number; cpu: number; rss: number };

function once(h: Harness): Promise<Record<string, Step> & { heapAfterGc: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--input-type=module', '-e', child], {
      env: { ...process.env, URL: h.info.url, CA: h.info.certFile, U: h.info.username, P: h.info.password, WSDL: source === 'server' ? '' : bundleDir() },
    }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim()))));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const h = await Harness.start({ wsdlDir: bundleDir(), captureDir: '' });
try {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(h));
  const row = (key: string) => {
    const pick = (f: keyof Step) => results.map((r) => (r[key] as Step)[f]);
    const stat = (xs: number[], unit: string) => `${median(xs).toFixed(0).padStart(6)} ${unit} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    return `${key.padEnd(8)} wall ${stat(pick('ms'), 'ms')}   CPU ${stat(pick('cpu'), 'ms')}   RSS after ${stat(pick('rss'), 'MB')}`;
  };
  console.log(`node ${process.version}, ${runs} runs, WSDL from ${source}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`);
  for (const k of ['main', 'subpath', 'first', 'second']) console.log(row(k));
  console.log(`heap after GC, two clients on the shared parse: ${median(results.map((r) => r.heapAfterGc)).toFixed(0)} MB`);
} finally {
  await h.stop();
}
