// npm run bench: our client (from dist/), pyvmomi (Debian's python3-pyvmomi) and a govmomi
// program of ours (Debian's govmomi sources) side by side on the same work, against one vcsim
// harness with a large inventory, in one run. Prints a table with our ratio to each peer and
// writes bench/results.json (the record). See bench/README.md.
//
//   node --import tsx scripts/bench.ts [--runs N] [--warmup N] [--only process,first,seq,concurrent,retrieve,inventory]
//                                      [--wsdl none|local] [--out FILE]
//
// Every measurement is a child process running one of bench/peers/* with the same arguments
// (url, CA file, user, password, workload, parameters); each prints one JSON line. Wall time of
// a whole process is taken here, around the child; peak RSS by /usr/bin/time -f %M, for every
// client alike; everything else is measured inside the child and reported in its JSON line.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Harness, type HarnessInfo, type HarnessInventory } from '../test/harness/vcsim.ts';
import { bundleDir, ROOT } from './lib/paths.ts';

const INVENTORY: Required<HarnessInventory> = { datacenters: 1, clusters: 4, hostsPerCluster: 2, standaloneHosts: 0, vms: 512 };
const EXPECTED_VMS = INVENTORY.datacenters * (INVENTORY.clusters + INVENTORY.standaloneHosts) * INVENTORY.vms;
// A busy service has a warm JIT: 2000 calls first (the same for every client), then the measured 1000.
const SEQ = { calls: 1000, warmup: 2000, maxSeconds: 20 };
// Short and medium jobs never reach that warm state: a fresh process's first 2000 calls, no
// warm-up (the peers' `seq` workload with WARMUP 0), JIT compilation and first-use costs included.
const FIRST = { calls: 2000, warmup: 0, maxSeconds: 30 };
const CONCURRENT = { calls: 4000, callers: 16, maxSeconds: 20, warmup: 2000 };
const CHILD_TIMEOUT_MS = 120_000;
const TIME = '/usr/bin/time';
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-pyvmomi lives (not a pyenv python3)
const WORKLOADS = ['process', 'first', 'seq', 'concurrent', 'retrieve', 'inventory'] as const;
// The inventory layer's rows: client.retrieve against the same loop written by hand, and
// retrievePages' peak RSS on this inventory and on one four times its size (it should not grow).
const LARGE_INVENTORY: Required<HarnessInventory> = { ...INVENTORY, vms: INVENTORY.vms * 4 };
const LARGE_VMS = LARGE_INVENTORY.datacenters * (LARGE_INVENTORY.clusters + LARGE_INVENTORY.standaloneHosts) * LARGE_INVENTORY.vms;
const PAGE_SIZE = 500;
type Workload = (typeof WORKLOADS)[number];

const CLIENTS = ['vim25-soap', 'pyvmomi', 'govmomi'] as const;
type ClientName = (typeof CLIENTS)[number];
const PEERS = ['pyvmomi', 'govmomi'] as const;

interface Stats {
  runs: number[];
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

interface Row {
  id: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  clients: Partial<Record<ClientName, Stats | { notMeasured: string }>>;
  /** median(ours) / median(peer). */
  ratios: Partial<Record<(typeof PEERS)[number], number>>;
}

interface ChildResult {
  wallMs: number;
  maxRssKb?: number;
  json: Record<string, unknown>;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      only: { type: 'string' },
      wsdl: { type: 'string', default: 'none' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run bench -- [--runs N] [--warmup N] [--only process,first,seq,concurrent,retrieve,inventory] [--wsdl none|local] [--out FILE]');
    process.exit(0);
  }
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup takes an integer ≥ 0');
  const only = values.only === undefined ? [...WORKLOADS] : values.only.split(',').map((w) => w.trim());
  for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--only: unknown workload ${w} (${WORKLOADS.join(', ')})`);
  if (values.wsdl !== 'none' && values.wsdl !== 'local') throw new Error('--wsdl takes none or local');
  const complete = only.length === WORKLOADS.length && runs >= 5;
  const out = values.out ?? join(ROOT, complete ? 'bench/results.json' : 'bench/results-partial.json');
  return { runs, warmup, only: new Set(only as Workload[]), wsdl: values.wsdl as 'none' | 'local', out };
}

// ---- statistics and formatting ----

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stats(runs: number[]): Stats {
  const s = [...runs].sort((a, b) => a - b);
  return { runs, median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
}

function num(v: number): string {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }).replace(/,/g, '\u202f');
}

function isStats(v: Stats | { notMeasured: string } | undefined): v is Stats {
  return v !== undefined && 'median' in v;
}

function cell(v: Stats | { notMeasured: string } | undefined, unit: string): string {
  if (!isStats(v)) return '—';
  return `${num(v.median)} ${unit} (${num(v.min)}–${num(v.max)})`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

// ---- child processes ----

let govmomiBinary: string | undefined;

function command(client: ClientName): [string, string[]] {
  switch (client) {
    case 'vim25-soap':
      return [process.execPath, [join(ROOT, 'bench/peers/vim25soap_bench.mjs')]];
    case 'pyvmomi':
      return [PYTHON, [join(ROOT, 'bench/peers/pyvmomi_bench.py')]];
    case 'govmomi':
      govmomiBinary ??= execFileSync('bash', [join(ROOT, 'bench/peers/build-govmomi.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
      return [govmomiBinary, []];
  }
}

let childEnv: NodeJS.ProcessEnv = {};
let rssDir = '';

/** Runs one child; with `rss`, under /usr/bin/time for its peak RSS. Wall time is taken around the child. */
function runChild(file: string, args: string[], rss: boolean, parseJson = true): Promise<ChildResult> {
  const rssFile = join(rssDir, 'rss');
  const [cmd, argv] = rss ? [TIME, ['-f', '%M', '-o', rssFile, file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let wallMs = 0;
    const started = performance.now();
    const child = spawn(cmd, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', () => (wallMs = performance.now() - started));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${[file, ...args].join(' ')} exited with ${code ?? signal}${signal === 'SIGKILL' ? ' (timed out)' : ''}:\n${stderr}`));
        return;
      }
      const result: ChildResult = { wallMs, json: {} };
      if (rss) {
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
        result.maxRssKb = Number(last);
        if (!Number.isFinite(result.maxRssKb)) {
          reject(new Error(`unreadable ${TIME} output: ${last}`));
          return;
        }
      }
      if (parseJson) {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          result.json = JSON.parse(line) as Record<string, unknown>;
        } catch {
          reject(new Error(`${file}: no JSON line on stdout: ${stdout}\n${stderr}`));
          return;
        }
      }
      resolve(result);
    });
  });
}

function runClient(client: ClientName, info: HarnessInfo, workload: string, params: number[], rss: boolean): Promise<ChildResult> {
  const [file, pre] = command(client);
  return runChild(file, [...pre, info.url, info.certFile, info.username, info.password, workload, ...params.map(String)], rss);
}

function field(r: ChildResult, name: string): number {
  const v = r.json[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`child result has no number ${name}: ${JSON.stringify(r.json)}`);
  return v;
}

/** Runs `measure` for every client, warm-up rounds first, then `runs` rounds, rotating the client order each round. */
async function rounds<T>(clients: readonly ClientName[], runs: number, warmup: number, label: string, measure: (c: ClientName) => Promise<T>): Promise<Record<string, T[]>> {
  const out: Record<string, T[]> = Object.fromEntries(clients.map((c) => [c, []]));
  for (let round = -warmup; round < runs; round++) {
    process.stderr.write(`\rbench: ${label}: ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`}   `);
    const order = clients.map((_, i) => clients[(i + Math.max(round, 0)) % clients.length]!);
    for (const c of order) {
      const r = await measure(c);
      if (round >= 0) out[c]!.push(r);
    }
  }
  process.stderr.write('\n');
  return out;
}

function row(id: string, label: string, unit: string, better: Row['better'], values: Partial<Record<ClientName, number[]>>, notMeasured: Partial<Record<ClientName, string>> = {}): Row {
  const r: Row = { id, label, unit, better, clients: {}, ratios: {} };
  for (const c of CLIENTS) {
    const v = values[c];
    if (v && v.length > 0) r.clients[c] = stats(v);
    else if (notMeasured[c]) r.clients[c] = { notMeasured: notMeasured[c] };
  }
  const ours = r.clients['vim25-soap'];
  for (const p of PEERS) {
    const peer = r.clients[p];
    if (isStats(ours) && isStats(peer)) r.ratios[p] = ours.median / peer.median;
  }
  return r;
}

// ---- machine and versions ----

function quiet(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return 'unknown';
  }
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function versions() {
  const dpkg = (pkg: string) => quiet('dpkg-query', ['-W', '-f=${Version}', pkg]);
  const pkg = (path: string) => (JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { version: string }).version;
  return {
    node: process.version,
    python: quiet(PYTHON, ['--version']).replace(/^Python /, ''),
    go: quiet('go', ['version']).replace(/^go version /, ''),
    'vim25-soap': pkg('package.json'),
    undici: pkg('node_modules/undici/package.json'),
    'tough-cookie': pkg('node_modules/tough-cookie/package.json'),
    pyvmomi: `python3-pyvmomi ${dpkg('python3-pyvmomi')}`,
    govmomi: `golang-github-vmware-govmomi-dev ${dpkg('golang-github-vmware-govmomi-dev')}`,
  };
}

// ---- main ----

async function main(): Promise<void> {
  const opts = parseOptions();
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing (Debian package "time"); npm run bench installs it`);
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  command('govmomi'); // build before anything is timed

  // The children get a minimal environment, the same for all: nothing that changes how a
  // runtime starts (NODE_OPTIONS, NODE_EXTRA_CA_CERTS, which alone adds ~70 ms to a Node start,
  // PYTHON*, SSL_CERT_FILE, …) and no VIM25_WSDL_DIR unless --wsdl local.
  childEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', LANG: 'C.UTF-8' };
  if (opts.wsdl === 'local') childEnv.VIM25_WSDL_DIR = bundleDir();
  rssDir = mkdtempSync(join(os.tmpdir(), 'vim25-bench-'));

  process.stderr.write(`bench: starting vcsim with ${INVENTORY.clusters} clusters × ${INVENTORY.vms} VMs…\n`);
  const t0 = performance.now();
  const harness = await Harness.start({ wsdlDir: bundleDir(), captureDir: '', inventory: INVENTORY });
  const harnessStartMs = performance.now() - t0;
  const info = harness.info;
  const rows: Row[] = [];
  const extra: Record<string, unknown> = {};
  const started = performance.now();
  try {
    const check = await runClient('govmomi', info, 'retrieve', [], false);
    const vmCount = field(check, 'vms');
    process.stderr.write(`bench: harness up in ${Math.round(harnessStartMs)} ms with ${vmCount} VMs\n`);
    if (vmCount !== EXPECTED_VMS) throw new Error(`the harness has ${vmCount} VMs, expected ${EXPECTED_VMS}`);
    extra.harness = { inventory: INVENTORY, vms: vmCount, startMs: Math.round(harnessStartMs), url: 'https://127.0.0.1:<port>/sdk (loopback)' };

    if (opts.only.has('process')) {
      const wall = await rounds(CLIENTS, opts.runs, opts.warmup, 'whole process, wall', async (c) => (await runClient(c, info, 'once', [], false)).wallMs);
      const rss = await rounds(CLIENTS, opts.runs, opts.warmup, 'whole process, peak RSS', async (c) => (await runClient(c, info, 'once', [], true)).maxRssKb! / 1024);
      rows.push(row('process.wall', 'whole process: start, load, connect, login, CurrentTime, logout, exit: wall', 'ms', 'lower', wall));
      rows.push(row('process.rss', 'peak RSS of that process', 'MB', 'lower', rss));
      const base: { wall: number[]; rss: number[] } = { wall: [], rss: [] };
      for (let i = -opts.warmup; i < opts.runs; i++) {
        const w = await runChild(process.execPath, ['-e', '0'], false, false);
        const r = await runChild(process.execPath, ['-e', '0'], true, false);
        if (i >= 0) {
          base.wall.push(w.wallMs);
          base.rss.push(r.maxRssKb! / 1024);
        }
      }
      extra.baseline = { command: 'node -e 0', wallMs: stats(base.wall), rssMB: stats(base.rss) };
    }

    const sequential = (label: string, s: typeof SEQ) => rounds(CLIENTS, opts.runs, opts.warmup, label, async (c) => {
      const r = await runClient(c, info, 'seq', [s.calls, s.warmup, s.maxSeconds], false);
      if (field(r, 'calls') < s.calls) process.stderr.write(`\nbench: ${c} made only ${field(r, 'calls')} calls in ${s.maxSeconds} s\n`);
      return field(r, 'cpuUsPerCall');
    });

    if (opts.only.has('first')) {
      const first = await sequential(`a process's first ${FIRST.calls} calls`, FIRST);
      rows.push(row('first.cpu', `client CPU per call over a fresh process's first ${FIRST.calls} sequential calls (CurrentTime, no warm-up)`, 'µs', 'lower', first));
    }

    if (opts.only.has('seq')) {
      const seq = await sequential(`${SEQ.calls} sequential calls`, SEQ);
      rows.push(row('seq.cpu', `client CPU per sequential call (CurrentTime), after ${SEQ.warmup} warm-up calls`, 'µs', 'lower', seq));
    }

    if (opts.only.has('concurrent')) {
      const clients = ['vim25-soap', 'govmomi'] as const;
      const conc = await rounds(clients, opts.runs, opts.warmup, `${CONCURRENT.callers} concurrent callers`, async (c) => {
        const r = await runClient(c, info, 'concurrent', [CONCURRENT.calls, CONCURRENT.callers, CONCURRENT.maxSeconds, CONCURRENT.warmup], false);
        if (field(r, 'calls') < CONCURRENT.calls) process.stderr.write(`\nbench: ${c} made only ${field(r, 'calls')} calls in ${CONCURRENT.maxSeconds} s\n`);
        return field(r, 'callsPerSec');
      });
      rows.push(row('concurrent.throughput', `${CONCURRENT.callers} concurrent callers (CurrentTime), throughput`, 'calls/s', 'higher', conc,
        { pyvmomi: 'not measured: a pyvmomi stub is not thread-safe (as in issue 9)' }));
    }

    if (opts.only.has('retrieve')) {
      const results = await rounds(CLIENTS, opts.runs, opts.warmup, `retrieve ${EXPECTED_VMS} VMs`, (c) => runClient(c, info, 'retrieve', [], true));
      const pick = (f: (r: ChildResult) => number) => Object.fromEntries(Object.entries(results).map(([c, rs]) => [c, rs.map(f)])) as Record<ClientName, number[]>;
      rows.push(row('retrieve.wall', `RetrievePropertiesEx(+Continue), ${EXPECTED_VMS} VMs, name, powerState, devices: wall`, 'ms', 'lower', pick((r) => field(r, 'wallMs'))));
      rows.push(row('retrieve.rss', 'same: peak RSS of the process', 'MB', 'lower', pick((r) => r.maxRssKb! / 1024)));
      const eld = results['vim25-soap']!.map((r) => r.json.eventLoopDelay as { maxMs: number; p99Ms: number });
      rows.push(row('retrieve.eventLoopDelay.max', 'ours: event-loop delay during that retrieve, max', 'ms', 'lower', { 'vim25-soap': eld.map((e) => e.maxMs) }));
      rows.push(row('retrieve.eventLoopDelay.p99', 'ours: event-loop delay during that retrieve, p99', 'ms', 'lower', { 'vim25-soap': eld.map((e) => e.p99Ms) }));
      // The same data must come back to every client.
      const seen = Object.fromEntries(Object.entries(results).map(([c, rs]) => [c, [...new Set(rs.map((r) => `${field(r, 'vms')} VMs, ${field(r, 'devices')} devices, ${field(r, 'pages')} page(s)`))]]));
      extra.retrieveResults = seen;
      const distinct = new Set(Object.values(seen).flat().map((s) => s.replace(/, \d+ page\(s\)$/, '')));
      if (distinct.size !== 1) process.stderr.write(`bench: WARNING: the clients retrieved different data: ${JSON.stringify(seen)}\n`);
    }

    if (opts.only.has('inventory')) {
      let turn = 0;
      const pairs = await rounds(['vim25-soap'], opts.runs, opts.warmup, `inventory: client.retrieve vs the loop by hand, ${EXPECTED_VMS} VMs`, async () => {
        // Alternate which goes first, so neither always meets a server just warmed by the other.
        const order = turn++ % 2 === 0 ? (['retrieve', 'inventory-retrieve'] as const) : (['inventory-retrieve', 'retrieve'] as const);
        const r: Record<string, ChildResult> = {};
        for (const w of order) r[w] = await runClient('vim25-soap', info, w, [], false);
        const [raw, helper] = [r.retrieve!, r['inventory-retrieve']!];
        if (field(raw, 'vms') !== field(helper, 'vms') || field(raw, 'devices') !== field(helper, 'devices')) {
          throw new Error(`client.retrieve read other data than the loop: ${JSON.stringify(helper.json)} vs ${JSON.stringify(raw.json)}`);
        }
        return { raw: field(raw, 'wallWithViewMs'), helper: field(helper, 'wallMs') };
      });
      const pairsOf = pairs['vim25-soap']!;
      rows.push(row('inventory.retrieve.wall', `ours: client.retrieve, ${EXPECTED_VMS} VMs (view, every page, rows, DestroyView): wall`, 'ms', 'lower', { 'vim25-soap': pairsOf.map((p) => p.helper) }));
      rows.push(row('inventory.raw.wall', 'ours: the same by hand (CreateContainerView, RetrievePropertiesEx + Continue, DestroyView): wall', 'ms', 'lower', { 'vim25-soap': pairsOf.map((p) => p.raw) }));
      const perPage: Record<number, unknown> = {};
      // Every client reads in pages of PAGE_SIZE and drops each once counted: ours through retrievePages.
      const pagesRss = async (h: HarnessInfo, vms: number, label: string): Promise<Record<string, number[]>> =>
        rounds(CLIENTS, opts.runs, opts.warmup, label, async (c) => {
          const res = await runClient(c, h, 'pages', [PAGE_SIZE], true);
          if (field(res, 'vms') !== vms) throw new Error(`${c} read ${field(res, 'vms')} VMs in pages, expected ${vms}`);
          if (c === 'vim25-soap') perPage[vms] = res.json.rssMB; // the last run's RSS after each page
          return res.maxRssKb! / 1024;
        });
      const small = await pagesRss(info, EXPECTED_VMS, `inventory: pages of ${PAGE_SIZE}, peak RSS, ${EXPECTED_VMS} VMs`);
      process.stderr.write(`bench: starting vcsim with ${LARGE_INVENTORY.clusters} clusters × ${LARGE_INVENTORY.vms} VMs…\n`);
      const large = await Harness.start({ wsdlDir: bundleDir(), captureDir: '', inventory: LARGE_INVENTORY });
      let big: Record<string, number[]>;
      try {
        big = await pagesRss(large.info, LARGE_VMS, `inventory: pages of ${PAGE_SIZE}, peak RSS, ${LARGE_VMS} VMs`);
      } finally {
        await large.stop();
      }
      rows.push(row('inventory.pages.rss', `pages of ${PAGE_SIZE} (ours: retrievePages), ${EXPECTED_VMS} VMs: peak RSS`, 'MB', 'lower', small));
      rows.push(row('inventory.pages.rss.large', `the same, ${LARGE_VMS} VMs: peak RSS`, 'MB', 'lower', big));
      const median = (xs: number[]) => stats(xs).median;
      const growth = Object.fromEntries(CLIENTS.map((c) => [c, median(big[c]!) / median(small[c]!)]));
      extra.inventory = {
        retrieveOverLoop: median(pairsOf.map((p) => p.helper)) / median(pairsOf.map((p) => p.raw)),
        retrieveTarget: '≤ 1.1×',
        pagesRssLargeOverSmall: growth['vim25-soap'],
        pagesRssLargeOverSmallByClient: growth,
        pagesTarget: 'flat (≈ 1.0×)',
        pagesRssAfterEachPageMB: perPage,
      };
    }
  } finally {
    await harness.stop();
    rmSync(rssDir, { recursive: true, force: true });
  }
  const benchSeconds = (performance.now() - started) / 1000;

  // ---- report ----
  const header = ['work', 'better', 'vim25-soap (ours)', 'pyvmomi', 'govmomi', 'ours/pyvmomi', 'ours/govmomi'];
  const ratio = (v: number | undefined) => (v === undefined ? '—' : `${num(v)}×`);
  const lines = rows.map((r) => [r.label, r.better, cell(r.clients['vim25-soap'], r.unit), cell(r.clients.pyvmomi, r.unit), cell(r.clients.govmomi, r.unit), ratio(r.ratios.pyvmomi), ratio(r.ratios.govmomi)]);
  const baseline = extra.baseline as { wallMs: Stats; rssMB: Stats } | undefined;
  if (baseline) lines.push(['baseline: bare `node -e 0`, wall / peak RSS', 'lower', `${cell(baseline.wallMs, 'ms')} / ${cell(baseline.rssMB, 'MB')}`, '', '', '', '']);
  const inv = extra.inventory as { retrieveOverLoop: number; pagesRssLargeOverSmall: number } | undefined;
  if (inv) {
    lines.push(['ours: client.retrieve / the loop by hand (target ≤ 1.1×)', 'lower', `${num(inv.retrieveOverLoop)}×`, '', '', '', '']);
    const g = (extra.inventory as { pagesRssLargeOverSmallByClient: Record<string, number> }).pagesRssLargeOverSmallByClient;
    lines.push([`pages: peak RSS, ${LARGE_VMS} / ${EXPECTED_VMS} VMs (target flat)`, 'lower', `${num(inv.pagesRssLargeOverSmall)}×`, `${num(g.pyvmomi!)}×`, `${num(g.govmomi!)}×`, '', '']);
  }
  const m = machine();
  const v = versions();
  console.log();
  console.log(`vim25-soap benchmark, ${new Date().toISOString()}: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; node ${v.node}, python ${v.python}, ${v.go}`);
  console.log(`vcsim (govmomi ${v.govmomi.split(' ')[1]}) on loopback, ${EXPECTED_VMS} VMs (${INVENTORY.clusters} clusters × ${INVENTORY.vms}); medians of ${opts.runs} runs (min–max); ratio = ours / peer: below 1× is better where lower is better, above 1× where higher is better`);
  console.log();
  console.log(table(header, lines));
  console.log();

  const record = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: m,
    versions: v,
    ...extra,
    settings: {
      runs: opts.runs,
      warmupRounds: opts.warmup,
      wsdlSource: opts.wsdl === 'none' ? 'none: the client reads no WSDL at run time' : 'the local bundle via VIM25_WSDL_DIR, read at connect to check operations',
      sequential: SEQ,
      firstCalls: FIRST,
      concurrent: CONCURRENT,
      childEnvironment: Object.keys(childEnv).join(', '),
      peakRss: `${TIME} -f %M (max RSS of the child, every client alike)`,
      processWall: 'spawn to exit of the child, taken in the parent (separate runs from the RSS ones)',
      cpu: 'getrusage(RUSAGE_SELF) user+sys of the client process around the loop: process.cpuUsage, time.process_time, syscall.Getrusage',
      eventLoopDelay: 'perf_hooks.monitorEventLoopDelay({ resolution: 1 }) around the retrieve, minus the 1 ms resolution',
      govmomi: 'soap.NewClient + SetRootCAs (CA verified), MaxIdleConnsPerHost 16 like our 16-socket pool',
      pyvmomi: 'SmartConnect with ssl.create_default_context(cafile), Disconnect (RetrieveContent + Logout) at the end',
    },
    benchSeconds: Math.round(benchSeconds),
    rows,
  };
  writeFileSync(opts.out, `${JSON.stringify(record, (_k, val: unknown) => (typeof val === 'number' ? Math.round(val * 1000) / 1000 : val), 2)}\n`);
  console.log(`wrote ${relative(process.cwd(), opts.out) || opts.out} (benchmark ${Math.round(benchSeconds)} s, harness start ${Math.round(harnessStartMs)} ms)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
