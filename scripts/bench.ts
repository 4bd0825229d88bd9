// npm run bench: our client (from dist/) on both of its wires, SOAP and VI/JSON, pyvmomi
// (Debian's python3-pyvmomi) and a govmomi program of ours (Debian's govmomi sources) side by
// side on the same work, against one vcsim harness with a large inventory, in one run. Prints a
// table with our JSON/SOAP ratio and our (SOAP) ratio to each peer, and writes
// bench/results.json (the record, with issue 27's VI/JSON targets). See bench/README.md.
//
//   node --import tsx scripts/bench.ts [--runs N] [--warmup N] [--only process,first,seq,concurrent,retrieve,bounds,inventory]
//                                      [--clients vim25-soap,vim25-json,pyvmomi,govmomi] [--wsdl none|local]
//                                      [--profile-dir DIR] [--out FILE]
//
// Every measurement is a child process running one of bench/peers/* with the same arguments
// (url, CA file, user, password, workload, parameters); each prints one JSON line. Our two wires
// are two "clients" here, the same driver with --protocol soap or --protocol json: in every round
// they run one right after the other (alternating which goes first), so the machine's load
// weighs on both alike, and the JSON/SOAP ratio is also taken round by round. Wall time of
// a whole process is taken here, around the child; peak RSS by /usr/bin/time -f %M, for every
// client alike; everything else is measured inside the child and reported in its JSON line.
//
// The driver and its children load as little as they can (issue 34): built-ins through
// process.getBuiltinModule, the clock from process.hrtime. The short-process row has a reference
// beside it, bench/peers/raw_https_bench.mjs: the same four SOAP requests by hand on node:https,
// on the same Node, what any Node client pays at least.
import { buildHarness, Harness, type HarnessInfo, type HarnessInventory } from '../test/harness/vcsim.ts';
import { bundleDir, ROOT } from './lib/paths.ts';

const { execFileSync, spawn } = process.getBuiltinModule('node:child_process');
const { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
const { join, relative } = process.getBuiltinModule('node:path');
const { parseArgs } = process.getBuiltinModule('node:util');
/** Milliseconds on a monotonic clock. */
const clock = (): number => Number(process.hrtime.bigint()) / 1e6;

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
const WORKLOADS = ['process', 'first', 'seq', 'concurrent', 'retrieve', 'bounds', 'inventory'] as const;
// The inventory layer's rows: client.retrieve against the same loop written by hand, and
// retrievePages' peak RSS on this inventory and on one four times its size (it should not grow).
const LARGE_INVENTORY: Required<HarnessInventory> = { ...INVENTORY, vms: INVENTORY.vms * 4 };
const LARGE_VMS = LARGE_INVENTORY.datacenters * (LARGE_INVENTORY.clusters + LARGE_INVENTORY.standaloneHosts) * LARGE_INVENTORY.vms;
const PAGE_SIZE = 500;
// The inventory layer's rows are the SOAP wire's (issue 27 adds no VI/JSON ones there).
const INVENTORY_CLIENTS = ['vim25-soap', 'pyvmomi', 'govmomi'] as const;
type Workload = (typeof WORKLOADS)[number];

const CLIENTS = ['vim25-soap', 'vim25-json', 'pyvmomi', 'govmomi'] as const;
type ClientName = (typeof CLIENTS)[number];
const PEERS = ['pyvmomi', 'govmomi'] as const;
const OURS = ['vim25-soap', 'vim25-json'] as const;
const PROTOCOL: Partial<Record<ClientName, 'soap' | 'json'>> = { 'vim25-soap': 'soap', 'vim25-json': 'json' };
/** Issue 27: on VI/JSON, our client's CPU against the SOAP wire's (median JSON / median SOAP, same run). */
const JSON_TARGETS: { row: string; max: number; what: string }[] = [
  { row: 'retrieve.cpu', max: 0.5, what: 'the 2048-VM retrieve: client CPU' },
  { row: 'first.cpu', max: 0.7, what: "a fresh process's first 2000 calls: client CPU per call" },
];

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
  /** median(ours on SOAP) / median(peer). */
  ratios: Partial<Record<(typeof PEERS)[number], number>>;
  /** Ours on VI/JSON against ours on SOAP, where both were measured. */
  jsonOverSoap?: JsonRatio;
  /** median(ours on VI/JSON) / median(peer). */
  jsonRatios?: Partial<Record<(typeof PEERS)[number], number>>;
}

interface JsonRatio {
  /** median(JSON) / median(SOAP). */
  ofMedians: number;
  /** JSON / SOAP of each round (the two ran back to back), with their median, min and max. */
  paired: Stats;
}

interface ChildResult {
  wallMs: number;
  maxRssKb?: number;
  json: Record<string, unknown>;
  /** CPU the harness (vcsim, another process) spent while this child ran: the server's, not the client's. */
  serverCpuMs?: number;
}

/** The harness's process, to read its CPU around each child (Linux; 10 ms ticks). */
let serverPid: number | undefined;

/** The pid of this process's child running the harness binary, if /proc tells. */
function findServerPid(): number | undefined {
  const binary = buildHarness();
  try {
    const kids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0] === binary;
      } catch {
        return false;
      }
    });
    return kids.length === 1 ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of the harness in ms, or undefined. */
function serverCpuMs(): number | undefined {
  if (serverPid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

function parseOptions() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      only: { type: 'string' },
      clients: { type: 'string' },
      'profile-dir': { type: 'string' },
      wsdl: { type: 'string', default: 'none' },
      node: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run bench -- [--runs N] [--warmup N] [--only process,first,seq,concurrent,retrieve,bounds,inventory] [--clients vim25-soap,vim25-json,pyvmomi,govmomi] [--wsdl none|local] [--node PATH] [--profile-dir DIR] [--out FILE]');
    process.exit(0);
  }
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup takes an integer ≥ 0');
  const only = values.only === undefined ? [...WORKLOADS] : values.only.split(',').map((w) => w.trim());
  for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--only: unknown workload ${w} (${WORKLOADS.join(', ')})`);
  if (values.wsdl !== 'none' && values.wsdl !== 'local') throw new Error('--wsdl takes none or local');
  const clients = values.clients === undefined ? [...CLIENTS] : values.clients.split(',').map((c) => c.trim());
  for (const c of clients) if (!(CLIENTS as readonly string[]).includes(c)) throw new Error(`--clients: unknown client ${c} (${CLIENTS.join(', ')})`);
  const complete = only.length === WORKLOADS.length && clients.length === CLIENTS.length && runs >= 5;
  const out = values.out ?? join(ROOT, complete ? 'bench/results.json' : 'bench/results-partial.json');
  if (values.node !== undefined && !existsSync(values.node)) throw new Error(`--node: no such file ${values.node} (bash scripts/node-matrix.sh 24 prints Node 24's)`);
  return { runs, warmup, only: new Set(only as Workload[]), clients: new Set(clients as ClientName[]), wsdl: values.wsdl as 'none' | 'local', out, profileDir: values['profile-dir'], node: values.node ?? process.execPath };
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
/** The Node that runs our driver, the reference and the baseline (--node; default the bench's own). */
let nodeBinary = process.execPath;

function command(client: ClientName): [string, string[]] {
  switch (client) {
    case 'vim25-soap':
    case 'vim25-json':
      return [nodeBinary, [join(ROOT, 'bench/peers/vim25soap_bench.mjs'), '--protocol', PROTOCOL[client]!]];
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
    const started = clock();
    const child = spawn(cmd, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', () => (wallMs = clock() - started));
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

async function runClient(client: ClientName, info: HarnessInfo, workload: string, params: number[], rss: boolean, flags: string[] = []): Promise<ChildResult> {
  const [file, pre] = command(client);
  const server0 = serverCpuMs();
  const r = await runChild(file, [...pre, ...flags, info.url, info.certFile, info.username, info.password, workload, ...params.map(String)], rss);
  const server1 = serverCpuMs();
  if (server0 !== undefined && server1 !== undefined) r.serverCpuMs = server1 - server0;
  // The wire asked for is the wire measured (no fallback from JSON to SOAP).
  if (PROTOCOL[client] && r.json.protocol !== PROTOCOL[client]) throw new Error(`${client}: the client spoke ${String(r.json.protocol)}, not ${PROTOCOL[client]}`);
  return r;
}

function field(r: ChildResult, name: string): number {
  const v = r.json[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`child result has no number ${name}: ${JSON.stringify(r.json)}`);
  return v;
}

/** The clients --clients leaves in, of those a workload runs. */
let selected: ReadonlySet<ClientName> = new Set(CLIENTS);

/**
 * This round's order: the clients rotate each round, our two wires as one unit that runs back
 * to back, SOAP first in even rounds and JSON first in odd ones, so both meet the same load and
 * neither always finds a server just warmed by the other.
 */
function roundOrder(clients: readonly ClientName[], round: number): ClientName[] {
  const ours = OURS.filter((c) => clients.includes(c));
  const units: ClientName[][] = [];
  for (const c of clients) {
    if (!(OURS as readonly string[]).includes(c)) units.push([c]);
    else if (c === ours[0]) units.push(round % 2 === 0 ? [...ours] : [...ours].reverse());
  }
  return units.map((_, i) => units[(i + round) % units.length]!).flat();
}

/** One number of each child's result, by client. */
function pickAll(results: Record<string, ChildResult[]>, f: (r: ChildResult) => number): Partial<Record<ClientName, number[]>> {
  return Object.fromEntries(Object.entries(results).map(([c, rs]) => [c, rs.map(f)]));
}

/** Runs `measure` for every client, warm-up rounds first, then `runs` rounds, rotating the client order each round. */
async function rounds<T>(all: readonly ClientName[], runs: number, warmup: number, label: string, measure: (c: ClientName) => Promise<T>): Promise<Record<string, T[]>> {
  const clients = all.filter((c) => selected.has(c));
  const out: Record<string, T[]> = Object.fromEntries(clients.map((c) => [c, []]));
  for (let round = -warmup; round < runs; round++) {
    process.stderr.write(`\rbench: ${label}: ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`}   `);
    const order = roundOrder(clients, Math.max(round, 0));
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
  const json = r.clients['vim25-json'];
  for (const p of PEERS) {
    const peer = r.clients[p];
    if (isStats(ours) && isStats(peer)) r.ratios[p] = ours.median / peer.median;
    if (isStats(json) && isStats(peer)) (r.jsonRatios ??= {})[p] = json.median / peer.median;
  }
  if (isStats(ours) && isStats(json)) {
    // Runs i of both were taken in the same round, back to back.
    const paired = json.runs.slice(0, ours.runs.length).map((j, i) => j / ours.runs[i]!);
    r.jsonOverSoap = { ofMedians: json.median / ours.median, paired: stats(paired) };
  }
  return r;
}

// ---- CPU profiles (the bounds part) ----

type ProfileSummary = Record<string, number>;
const distMarkers = new Map<string, [number, string][]>();

/** Where a profile's frame is: the source module of dist/'s bundle (esbuild's `// src/…` markers), an npm package, a group of Node's internals. */
function moduleOf(url: string, line: number, fn: string): string {
  if (url === '') return fn === 'writev' ? 'native writev (TLS encrypt, send)' : 'native (other)';
  if (url.includes('node_modules/')) return `npm:${url.split('node_modules/').pop()!.split('/')[0]}`;
  if (url.startsWith('wasm://')) return "wasm (undici's llhttp)";
  if (url.includes('/dist/')) {
    const file = url.replace(/^file:\/\//, '');
    let marks = distMarkers.get(file);
    if (!marks) {
      marks = [];
      readFileSync(file, 'utf8').split('\n').forEach((l, i) => {
        const m = /^\/\/ (src\/\S+)$/.exec(l);
        if (m) marks!.push([i, m[1]!]);
      });
      distMarkers.set(file, marks);
    }
    let mod = `dist/${file.split('/dist/').pop()}`;
    for (const [i, name] of marks) {
      if (i > line) break;
      mod = name;
    }
    return mod;
  }
  if (url.startsWith('node:')) {
    const n = url.slice(5);
    if (/tls|crypto/.test(n)) return 'node: tls';
    if (/stream/.test(n)) return 'node: streams';
    if (/http|net/.test(n)) return 'node: http, net';
    return 'node: other internals';
  }
  if (url.includes('/bench/peers/')) return 'bench driver';
  return url;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

// Functions whose whole time (callees included) a row of the summary gives.
const INCLUSIVE = ['sessionIdIn'];
const CODEC = /^src\/(binding\/|soap\/envelope\.ts$)/;
const WIRE = /^src\/(soap\/(soap|json)-wire\.ts)$/;

/**
 * A .cpuprofile (the driver's --profile: the measured part only, main thread) as self time in ms
 * by module, `(idle)` and `(garbage collector)` as V8 names them, plus `busy` (all but idle),
 * `codec` (src/binding/*, the SOAP envelope), `wire` (soap-wire.ts or json-wire.ts, and the
 * session-id lookup with what it calls) and `fn:NAME` for INCLUSIVE.
 */
function summarizeProfile(file: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000));
  const out: ProfileSummary = { busy: 0, codec: 0, wire: 0 };
  for (const [id, ms] of self) {
    const { functionName: fn, url, lineNumber } = byId.get(id)!.callFrame;
    const mod = fn.startsWith('(') ? fn : moduleOf(url, lineNumber, fn);
    out[mod] = (out[mod] ?? 0) + ms;
    if (mod !== '(idle)') out.busy! += ms;
    if (CODEC.test(mod)) out.codec! += ms;
    if (WIRE.test(mod)) out.wire! += ms;
  }
  // Inclusive times: each sample counted once per named function on its stack.
  const walk = (id: number, inside: ReadonlySet<string>): void => {
    const n = byId.get(id)!;
    let names = inside;
    if (INCLUSIVE.includes(n.callFrame.functionName) && !inside.has(n.callFrame.functionName)) names = new Set([...inside, n.callFrame.functionName]);
    const ms = self.get(id) ?? 0;
    for (const name of names) out[`fn:${name}`] = (out[`fn:${name}`] ?? 0) + ms;
    for (const c of n.children ?? []) walk(c, names);
  };
  walk(p.nodes[0]!.id, new Set());
  for (const name of INCLUSIVE) out[`fn:${name}`] ??= 0;
  out.wire! += out['fn:sessionIdIn']!;
  return out;
}

/** Medians, key by key, of several summaries (a key a run lacks counts 0 there). */
function medianSummary(all: ProfileSummary[]): ProfileSummary {
  const keys = new Set(all.flatMap((s) => Object.keys(s)));
  return Object.fromEntries([...keys].map((k) => [k, stats(all.map((s) => s[k] ?? 0)).median]));
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
    node: nodeBinary === process.execPath ? process.version : quiet(nodeBinary, ['--version']),
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
  selected = opts.clients;
  nodeBinary = opts.node;

  process.stderr.write(`bench: starting vcsim with ${INVENTORY.clusters} clusters × ${INVENTORY.vms} VMs…\n`);
  const t0 = clock();
  const harness = await Harness.start({ wsdlDir: bundleDir(), captureDir: '', inventory: INVENTORY });
  const harnessStartMs = clock() - t0;
  serverPid = findServerPid();
  const info = harness.info;
  const rows: Row[] = [];
  const extra: Record<string, unknown> = {};
  // The machine is shared: its load average (1, 5, 15 min) as each part starts, and at the end.
  const loadAverage: Record<string, number[]> = {};
  const loadAt = (part: string) => void (loadAverage[part] = os.loadavg());
  extra.loadAverage = loadAverage;
  loadAt('start');
  const started = clock();
  try {
    const check = await runClient('govmomi', info, 'retrieve', [], false);
    const vmCount = field(check, 'vms');
    process.stderr.write(`bench: harness up in ${Math.round(harnessStartMs)} ms with ${vmCount} VMs\n`);
    if (vmCount !== EXPECTED_VMS) throw new Error(`the harness has ${vmCount} VMs, expected ${EXPECTED_VMS}`);
    extra.harness = { inventory: INVENTORY, vms: vmCount, startMs: Math.round(harnessStartMs), url: 'https://127.0.0.1:<port>/sdk (loopback)' };

    if (opts.only.has('process')) {
      loadAt('process');
      const wall = await rounds(CLIENTS, opts.runs, opts.warmup, 'whole process, wall', async (c) => (await runClient(c, info, 'once', [], false)).wallMs);
      const rss = await rounds(CLIENTS, opts.runs, opts.warmup, 'whole process, peak RSS', async (c) => (await runClient(c, info, 'once', [], true)).maxRssKb! / 1024);
      rows.push(row('process.wall', 'whole process: start, load, connect, login, CurrentTime, logout, exit: wall', 'ms', 'lower', wall));
      rows.push(row('process.rss', 'peak RSS of that process', 'MB', 'lower', rss));
      // Beside them, on the same Node: a bare start, and the reference for any Node client (issue
      // 34), the same four SOAP requests by hand on node:https; each round runs both, then ours
      // once more under /usr/bin/time, so the RSS over the reference is also taken round by round.
      const base: { wall: number[]; rss: number[] } = { wall: [], rss: [] };
      const ref: { wall: number[]; rss: number[]; ours: number[] } = { wall: [], rss: [], ours: [] };
      const reference = join(ROOT, 'bench/peers/raw_https_bench.mjs');
      const refArgs = [reference, info.url, info.certFile, info.username, info.password, 'once'];
      for (let i = -opts.warmup; i < opts.runs; i++) {
        process.stderr.write(`\rbench: baseline and reference: ${i < 0 ? 'warm-up' : `run ${i + 1}/${opts.runs}`}   `);
        const w = await runChild(nodeBinary, ['-e', '0'], false, false);
        const r = await runChild(nodeBinary, ['-e', '0'], true, false);
        const rw = await runChild(nodeBinary, refArgs, false);
        const rr = await runChild(nodeBinary, refArgs, true);
        const ours = selected.has('vim25-soap') ? await runClient('vim25-soap', info, 'once', [], true) : undefined;
        if (i >= 0) {
          base.wall.push(w.wallMs);
          base.rss.push(r.maxRssKb! / 1024);
          ref.wall.push(rw.wallMs);
          ref.rss.push(rr.maxRssKb! / 1024);
          if (ours) ref.ours.push(ours.maxRssKb! / 1024);
        }
      }
      process.stderr.write('\n');
      extra.baseline = { command: 'node -e 0', wallMs: stats(base.wall), rssMB: stats(base.rss) };
      extra.reference = {
        command: 'bench/peers/raw_https_bench.mjs: RetrieveServiceContent, Login, CurrentTime, Logout by hand on node:https',
        wallMs: stats(ref.wall),
        rssMB: stats(ref.rss),
        ...(ref.ours.length > 0 && {
          // Issue 34's target: our short process's peak RSS at most 5 MB above the reference's.
          oursRssMB: stats(ref.ours),
          oursOverReferenceMB: { ofMedians: stats(ref.ours).median - stats(ref.rss).median, paired: stats(ref.ours.map((o, k) => o - ref.rss[k]!)) },
          target: '≤ 5 MB',
        }),
      };
    }

    const sequential = (label: string, s: typeof SEQ) => rounds(CLIENTS, opts.runs, opts.warmup, label, async (c) => {
      const r = await runClient(c, info, 'seq', [s.calls, s.warmup, s.maxSeconds], false);
      if (field(r, 'calls') < s.calls) process.stderr.write(`\nbench: ${c} made only ${field(r, 'calls')} calls in ${s.maxSeconds} s\n`);
      return r;
    });
    // Ours only (Linux): the CPU of the main thread, where JavaScript runs, and of the others
    // (V8's concurrent compilers and GC helpers), divided as the row's CPU is.
    const threadRows = (id: string, label: string, unit: string, results: Record<string, ChildResult[]>, per: (r: ChildResult) => number) => {
      const split = (name: string) => Object.fromEntries(OURS.filter((c) => results[c]?.every((r) => typeof r.json[name] === 'number')).map((c) => [c, results[c]!.map((r) => field(r, name) / per(r))]));
      const main = split('mainThreadCpuMs');
      if (Object.keys(main).length === 0) return;
      rows.push(row(`${id}.mainThread`, `${label}: of which the main thread`, unit, 'lower', main));
      rows.push(row(`${id}.otherThreads`, `${label}: of which the other threads (V8's compilers and GC helpers)`, unit, 'lower', split('otherThreadsCpuMs')));
    };

    // The harness's CPU while it served a child: the server's side of a row, which the client's CPU
    // does not include (the VI/JSON endpoint turns each call into SOAP and back).
    const serverRow = (id: string, label: string, unit: string, results: Record<string, ChildResult[]>, per: (r: ChildResult) => number) => {
      const v = Object.fromEntries(Object.entries(results).filter(([, rs]) => rs.every((r) => r.serverCpuMs !== undefined)).map(([c, rs]) => [c, rs.map((r) => r.serverCpuMs! / per(r))]));
      if (Object.keys(v).length > 0) rows.push(row(id, label, unit, 'lower', v));
    };

    if (opts.only.has('first')) {
      loadAt('first');
      const first = await sequential(`a process's first ${FIRST.calls} calls`, FIRST);
      rows.push(row('first.cpu', `client CPU per call over a fresh process's first ${FIRST.calls} sequential calls (CurrentTime, no warm-up)`, 'µs', 'lower', pickAll(first, (r) => field(r, 'cpuUsPerCall'))));
      threadRows('first.cpu', 'ours: the same', 'µs', first, (r) => field(r, 'calls') / 1000);
      // Issue 34: no window of 200 calls above 3x the steady state (seq.cpu).
      const windows = Object.fromEntries(OURS.filter((c) => first[c]?.every((r) => Array.isArray(r.json.windowUsPerCall))).map((c) => [c, first[c]!.map((r) => Math.max(...(r.json.windowUsPerCall as number[])))]));
      if (Object.keys(windows).length > 0) rows.push(row('first.cpu.worstWindow', 'ours: the same calls: the dearest window of 200 consecutive calls, client CPU per call', 'µs', 'lower', windows));
      serverRow('first.serverCpu', "the same calls: the harness's CPU per call (the server's, not the client's)", 'µs', first, (r) => field(r, 'calls') / 1000);
    }

    if (opts.only.has('seq')) {
      loadAt('seq');
      const seq = await sequential(`${SEQ.calls} sequential calls`, SEQ);
      rows.push(row('seq.cpu', `client CPU per sequential call (CurrentTime), after ${SEQ.warmup} warm-up calls`, 'µs', 'lower', pickAll(seq, (r) => field(r, 'cpuUsPerCall'))));
    }

    if (opts.only.has('concurrent')) {
      loadAt('concurrent');
      const clients = ['vim25-soap', 'vim25-json', 'govmomi'] as const;
      const concRuns = await rounds(clients, opts.runs, opts.warmup, `${CONCURRENT.callers} concurrent callers`, async (c) => {
        const r = await runClient(c, info, 'concurrent', [CONCURRENT.calls, CONCURRENT.callers, CONCURRENT.maxSeconds, CONCURRENT.warmup], false);
        if (field(r, 'calls') < CONCURRENT.calls) process.stderr.write(`\nbench: ${c} made only ${field(r, 'calls')} calls in ${CONCURRENT.maxSeconds} s\n`);
        return r;
      });
      const conc = pickAll(concRuns, (r) => field(r, 'callsPerSec'));
      rows.push(row('concurrent.throughput', `${CONCURRENT.callers} concurrent callers (CurrentTime), throughput`, 'calls/s', 'higher', conc,
        { pyvmomi: 'not measured: a pyvmomi stub is not thread-safe (as in issue 9)' }));
      serverRow('concurrent.serverCpu', "the same: the harness's CPU per call, warm-up calls included (the server's)", 'µs', concRuns, (r) => (field(r, 'calls') + CONCURRENT.warmup) / 1000);
    }

    if (opts.only.has('retrieve')) {
      loadAt('retrieve');
      // Our CPU without the event-loop-delay monitor, whose 1 ms timer costs CPU for every second
      // spent waiting for the server (the VI/JSON endpoint is the slower): its rows come from runs
      // of their own.
      const results = await rounds(CLIENTS, opts.runs, opts.warmup, `retrieve ${EXPECTED_VMS} VMs`, (c) => runClient(c, info, 'retrieve', [0, 0], true));
      const delays = await rounds(OURS, opts.runs, opts.warmup, `retrieve ${EXPECTED_VMS} VMs, event-loop delay`, (c) => runClient(c, info, 'retrieve', [0, 1], false));
      const pick = (f: (r: ChildResult) => number) => pickAll(results, f);
      rows.push(row('retrieve.wall', `RetrievePropertiesEx(+Continue), ${EXPECTED_VMS} VMs, name, powerState, devices: wall`, 'ms', 'lower', pick((r) => field(r, 'wallMs'))));
      rows.push(row('retrieve.cpu', 'same: client CPU (first request to last decoded page)', 'ms', 'lower', pick((r) => field(r, 'cpuMs'))));
      threadRows('retrieve.cpu', 'ours: the same CPU', 'ms', results, () => 1);
      serverRow('retrieve.serverCpu', "same: the harness's CPU over the whole child (the server's, not the client's)", 'ms', results, () => 1);
      rows.push(row('retrieve.rss', 'same: peak RSS of the process', 'MB', 'lower', pick((r) => r.maxRssKb! / 1024)));
      const eld = (c: ClientName) => (delays[c] ?? []).map((r) => r.json.eventLoopDelay as { maxMs: number; p99Ms: number });
      if (Object.keys(delays).length > 0) rows.push(row('retrieve.eventLoopDelay.max', 'ours: event-loop delay during that retrieve, max', 'ms', 'lower', { 'vim25-soap': eld('vim25-soap').map((e) => e.maxMs), 'vim25-json': eld('vim25-json').map((e) => e.maxMs) }));
      if (Object.keys(delays).length > 0) rows.push(row('retrieve.eventLoopDelay.p99', 'ours: event-loop delay during that retrieve, p99', 'ms', 'lower', { 'vim25-soap': eld('vim25-soap').map((e) => e.p99Ms), 'vim25-json': eld('vim25-json').map((e) => e.p99Ms) }));
      // The same data must come back to every client.
      const seen = Object.fromEntries(Object.entries(results).map(([c, rs]) => [c, [...new Set(rs.map((r) => `${field(r, 'vms')} VMs, ${field(r, 'devices')} devices, ${field(r, 'pages')} page(s)`))]]));
      extra.retrieveResults = seen;
      const distinct = new Set(Object.values(seen).flat().map((s) => s.replace(/, \d+ page\(s\)$/, '')));
      if (distinct.size !== 1) process.stderr.write(`bench: WARNING: the clients retrieved different data: ${JSON.stringify(seen)}\n`);
    }

    if (opts.only.has('bounds')) {
      // What bounds issue 27's targets, measured: the retrieve in a process that has done one
      // (decoder compiled, heap grown) and the same request on bare node:https (the answer
      // dropped; on VI/JSON also JSON.parse'd), then CPU profiles of both wires' first 2000 calls
      // and retrieve. Ours only; not part of the targets' rows.
      loadAt('bounds');
      const floors = await rounds(OURS, opts.runs, opts.warmup, `bounds: the retrieve warm and on bare node:https`, async (c) => ({
        warm: await runClient(c, info, 'retrieve', [1, 0], false),
        bytes: await runClient(c, info, 'retrieve-floor', [0], true),
        parse: c === 'vim25-json' ? await runClient(c, info, 'retrieve-floor', [1], false) : undefined,
      }));
      const of = (k: 'warm' | 'bytes' | 'parse'): Record<string, ChildResult[]> =>
        Object.fromEntries(Object.entries(floors).map(([c, xs]) => [c, xs.flatMap((x) => (x[k] ? [x[k]] : []))] as const).filter(([, v]) => v.length > 0));
      const cpuOf = (k: 'warm' | 'bytes' | 'parse') => pickAll(of(k), (r) => field(r, 'cpuMs'));
      rows.push(row('bounds.retrieve.warm.cpu', 'ours: a second retrieve in the same process, 200 ms after the first (code compiled): client CPU', 'ms', 'lower', cpuOf('warm')));
      threadRows('bounds.retrieve.warm.cpu', 'ours: the same', 'ms', of('warm'), () => 1);
      rows.push(row('bounds.retrieve.bytes.cpu', 'ours: the retrieve\'s request on bare node:https, the answer read and dropped: client CPU', 'ms', 'lower', cpuOf('bytes')));
      rows.push(row('bounds.retrieve.bytes.rss', 'ours: the same: peak RSS of the process (receiving the answer, no decoder)', 'MB', 'lower', pickAll(of('bytes'), (r) => r.maxRssKb! / 1024)));
      rows.push(row('bounds.retrieve.parse.cpu', 'ours: the same, the VI/JSON answer JSON.parse\'d (no types, longs rounded): client CPU', 'ms', 'lower', cpuOf('parse')));
      threadRows('bounds.retrieve.parse.cpu', 'ours: the same', 'ms', of('parse'), () => 1);
      const dir = opts.profileDir ?? mkdtempSync(join(os.tmpdir(), 'vim25-bench-prof-'));
      let n = 0;
      const profiles = await rounds(OURS, opts.runs, 0, 'bounds: CPU profiles of the first 2000 calls and the retrieve', async (c) => {
        const wire = PROTOCOL[c]!;
        const first = join(dir, `first-${wire}-${n}.cpuprofile`);
        const retrieve = join(dir, `retrieve-${wire}-${n++}.cpuprofile`);
        await runClient(c, info, 'seq', [FIRST.calls, FIRST.warmup, FIRST.maxSeconds], false, ['--profile', first, '--profile-interval', '200']);
        await runClient(c, info, 'retrieve', [0, 0], false, ['--profile', retrieve, '--profile-interval', '200']);
        return { first: summarizeProfile(first), retrieve: summarizeProfile(retrieve) };
      });
      if (!opts.profileDir) rmSync(dir, { recursive: true, force: true });
      extra.profiles = {
        how: `the driver's --profile (V8's sampling profiler through node:inspector, every 200 µs, main thread only, the measured part only), ${opts.runs} runs per wire, medians of self time in ms by source module`,
        ...(opts.profileDir && { dir: opts.profileDir }),
        ...Object.fromEntries(Object.entries(profiles).map(([c, xs]) => [PROTOCOL[c as ClientName]!, {
          first: medianSummary(xs.map((x) => x.first)),
          retrieve: medianSummary(xs.map((x) => x.retrieve)),
        }])),
      };
    }

    if (opts.only.has('inventory') && selected.has('vim25-soap')) {
      loadAt('inventory');
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
        rounds(INVENTORY_CLIENTS, opts.runs, opts.warmup, label, async (c) => {
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
      const growth = Object.fromEntries(Object.keys(small).map((c) => [c, median(big[c]!) / median(small[c]!)]));
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
  const benchSeconds = (clock() - started) / 1000;
  loadAt('end');

  // ---- report ----
  const header = ['work', 'better', 'ours, SOAP', 'ours, VI/JSON', 'JSON/SOAP (per round)', 'pyvmomi', 'govmomi', 'SOAP/pyvmomi', 'SOAP/govmomi'];
  const ratio = (v: number | undefined) => (v === undefined ? '—' : `${num(v)}×`);
  const jsonRatio = (j: JsonRatio | undefined) => (j === undefined ? '—' : `${num(j.ofMedians)}× (${num(j.paired.min)}–${num(j.paired.max)})`);
  const lines = rows.map((r) => [r.label, r.better, cell(r.clients['vim25-soap'], r.unit), cell(r.clients['vim25-json'], r.unit), jsonRatio(r.jsonOverSoap),
    cell(r.clients.pyvmomi, r.unit), cell(r.clients.govmomi, r.unit), ratio(r.ratios.pyvmomi), ratio(r.ratios.govmomi)]);
  const blank = (n: number) => Array<string>(n).fill('');
  const baseline = extra.baseline as { wallMs: Stats; rssMB: Stats } | undefined;
  if (baseline) lines.push(['baseline: bare `node -e 0`, wall / peak RSS', 'lower', `${cell(baseline.wallMs, 'ms')} / ${cell(baseline.rssMB, 'MB')}`, ...blank(6)]);
  const reference = extra.reference as { wallMs: Stats; rssMB: Stats; oursOverReferenceMB?: JsonRatio } | undefined;
  if (reference) {
    lines.push(['reference: the same 4 SOAP requests by hand on node:https, wall / peak RSS', 'lower', `${cell(reference.wallMs, 'ms')} / ${cell(reference.rssMB, 'MB')}`, ...blank(6)]);
    const over = reference.oursOverReferenceMB;
    if (over) lines.push(['ours: short process\'s peak RSS over the reference (target ≤ 5 MB)', 'lower', `${num(over.ofMedians)} MB (per round ${num(over.paired.min)}–${num(over.paired.max)})`, ...blank(6)]);
  }
  const inv = extra.inventory as { retrieveOverLoop: number; pagesRssLargeOverSmall: number } | undefined;
  if (inv) {
    lines.push(['ours: client.retrieve / the loop by hand (target ≤ 1.1×)', 'lower', `${num(inv.retrieveOverLoop)}×`, ...blank(6)]);
    const g = (extra.inventory as { pagesRssLargeOverSmallByClient: Record<string, number> }).pagesRssLargeOverSmallByClient;
    lines.push([`pages: peak RSS, ${LARGE_VMS} / ${EXPECTED_VMS} VMs (target flat)`, 'lower', `${num(inv.pagesRssLargeOverSmall)}×`, '', '', ratio(g.pyvmomi), ratio(g.govmomi), '', '']);
  }
  // Issue 27's targets: ours on VI/JSON against ours on SOAP, in this run, with what bounds them
  // where the bounds part ran.
  const median = (id: string, c: ClientName): number | undefined => {
    const v = rows.find((x) => x.id === id)?.clients[c];
    return isStats(v) ? v.median : undefined;
  };
  const prof = extra.profiles as Partial<Record<'soap' | 'json', { first: ProfileSummary; retrieve: ProfileSummary }>> | undefined;
  // A profile's share of the main thread's busy time, times the main thread's measured CPU: the
  // sampling profiler counts wall time (a thread preempted on a loaded machine still gets the
  // sample), so its milliseconds are shares, not CPU.
  const share = (s: ProfileSummary | undefined, ...keys: string[]) => (s && s.busy! > 0 ? keys.reduce((n, k) => n + (s[k] ?? 0), 0) / s.busy! : undefined);
  const times = (f: number | undefined, ms: number | undefined) => (f === undefined || ms === undefined ? undefined : f * ms);
  const boundsOf = (id: string): Record<string, number | undefined> => {
    const soap = median(id, 'vim25-soap');
    if (id === 'retrieve.cpu') {
      const soapMain = median('retrieve.cpu.mainThread', 'vim25-soap');
      const jsonMain = median('retrieve.cpu.mainThread', 'vim25-json');
      return {
        soapCpuMs: soap, jsonCpuMs: median(id, 'vim25-json'), jsonCpuMsForTarget: soap === undefined ? undefined : soap * 0.5,
        soapMainThreadMs: soapMain, soapOtherThreadsMs: median('retrieve.cpu.otherThreads', 'vim25-soap'),
        jsonMainThreadMs: jsonMain, jsonOtherThreadsMs: median('retrieve.cpu.otherThreads', 'vim25-json'),
        soapCodecMs: times(share(prof?.soap?.retrieve, 'codec'), soapMain), jsonCodecMs: times(share(prof?.json?.retrieve, 'codec'), jsonMain),
        soapMainThreadGcMs: times(share(prof?.soap?.retrieve, '(garbage collector)'), soapMain), jsonMainThreadGcMs: times(share(prof?.json?.retrieve, '(garbage collector)'), jsonMain),
        jsonBytesOnlyFloorMs: median('bounds.retrieve.bytes.cpu', 'vim25-json'), soapBytesOnlyFloorMs: median('bounds.retrieve.bytes.cpu', 'vim25-soap'),
        jsonParseFloorMs: median('bounds.retrieve.parse.cpu', 'vim25-json'),
        jsonParseFloorMainThreadMs: median('bounds.retrieve.parse.cpu.mainThread', 'vim25-json'), jsonParseFloorOtherThreadsMs: median('bounds.retrieve.parse.cpu.otherThreads', 'vim25-json'),
        warmSoapCpuMs: median('bounds.retrieve.warm.cpu', 'vim25-soap'), warmJsonCpuMs: median('bounds.retrieve.warm.cpu', 'vim25-json'),
      };
    }
    const soapMain = median('first.cpu.mainThread', 'vim25-soap');
    const jsonMain = median('first.cpu.mainThread', 'vim25-json');
    const json = median(id, 'vim25-json');
    const jsonWire = times(share(prof?.json?.first, 'codec', 'wire'), jsonMain);
    return {
      soapUsPerCall: soap, jsonUsPerCall: json, jsonUsPerCallForTarget: soap === undefined ? undefined : soap * 0.7,
      soapMainThreadUsPerCall: soapMain, jsonMainThreadUsPerCall: jsonMain,
      soapOtherThreadsUsPerCall: median('first.cpu.otherThreads', 'vim25-soap'), jsonOtherThreadsUsPerCall: median('first.cpu.otherThreads', 'vim25-json'),
      soapCodecAndWireUsPerCall: times(share(prof?.soap?.first, 'codec', 'wire'), soapMain), jsonCodecAndWireUsPerCall: jsonWire,
      jsonSessionIdLookupUsPerCall: times(share(prof?.json?.first, 'fn:sessionIdIn'), jsonMain),
      // Were the JSON codec and wire free, the JSON row would still pay the rest of its calls
      // (HTTP, TLS, the client's pipeline, V8's compilers and GC).
      bestRatioWithAFreeJsonWire: soap === undefined || json === undefined || jsonWire === undefined ? undefined : (json - jsonWire) / soap,
    };
  };
  const jsonTargets = JSON_TARGETS.flatMap((t) => {
    const r = rows.find((x) => x.id === t.row)?.jsonOverSoap;
    if (!r) return [];
    const bounds = Object.fromEntries(Object.entries(boundsOf(t.row)).filter(([, v]) => v !== undefined));
    return [{ row: t.row, what: t.what, target: `JSON/SOAP ≤ ${t.max}×`, ratio: r.ofMedians, pairedRatios: r.paired, met: r.ofMedians <= t.max, measured: bounds }];
  });
  if (jsonTargets.length > 0) extra.jsonTargets = jsonTargets;
  const m = machine();
  const v = versions();
  console.log();
  console.log(`vim25-soap benchmark, ${new Date().toISOString()}: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; node ${v.node}, python ${v.python}, ${v.go}`);
  console.log(`vcsim (govmomi ${v.govmomi.split(' ')[1]}) on loopback, ${EXPECTED_VMS} VMs (${INVENTORY.clusters} clusters × ${INVENTORY.vms}); medians of ${opts.runs} runs (min–max); ratio = ours / peer: below 1× is better where lower is better, above 1× where higher is better`);
  console.log();
  console.log(table(header, lines));
  console.log();
  for (const t of jsonTargets) {
    console.log(`VI/JSON target (issue 27), ${t.what}: JSON/SOAP ${num(t.ratio)}× (per round ${num(t.pairedRatios.min)}–${num(t.pairedRatios.max)}×), target ≤ ${t.target.split('≤ ')[1]}: ${t.met ? 'met' : 'NOT met'}`);
    const m = t.measured;
    const f = (v: number | undefined, unit: string) => (v === undefined ? '?' : `${num(v)} ${unit}`);
    if (t.row === 'retrieve.cpu' && m.jsonParseFloorMs !== undefined) {
      console.log(`  the target leaves JSON ${f(m.jsonCpuMsForTarget, 'ms')}; JSON uses ${f(m.jsonCpuMs, 'ms')} (main thread ${f(m.jsonMainThreadMs, 'ms')}, of which the decoder ~${f(m.jsonCodecMs, 'ms')}; other threads ${f(m.jsonOtherThreadsMs, 'ms')});` +
        ` on bare node:https the answer's bytes alone cost ${f(m.jsonBytesOnlyFloorMs, 'ms')} and JSON.parse of it ${f(m.jsonParseFloorMs, 'ms')};` +
        ` a second retrieve in the same process: SOAP ${f(m.warmSoapCpuMs, 'ms')}, JSON ${f(m.warmJsonCpuMs, 'ms')}`);
    }
    if (t.row === 'first.cpu' && m.soapCodecAndWireUsPerCall !== undefined) {
      console.log(`  the target leaves JSON ${f(m.jsonUsPerCallForTarget, 'µs')} a call; JSON's codec and wire are ${f(m.jsonCodecAndWireUsPerCall, 'µs')} of its ${f(m.jsonUsPerCall, 'µs')}` +
        ` (of which the session-id lookup ${f(m.jsonSessionIdLookupUsPerCall, 'µs')}): with them free, JSON would be ${num(m.bestRatioWithAFreeJsonWire ?? NaN)}× SOAP; SOAP's are ${f(m.soapCodecAndWireUsPerCall, 'µs')} of its ${f(m.soapUsPerCall, 'µs')}`);
    }
  }
  if (jsonTargets.length > 0) console.log();
  if (prof?.soap && prof.json) {
    const cols = [prof.soap.first, prof.json.first, prof.soap.retrieve, prof.json.retrieve];
    const named: [string, string][] = [['busy', 'main thread busy (all but idle)'], ['codec', 'codec: src/binding/*, soap/envelope.ts'], ['wire', 'wire: soap-wire.ts / json-wire.ts + session-id lookup'],
      ['fn:sessionIdIn', 'session-id lookup (sessionIdIn → tough-cookie)'], ['(garbage collector)', 'GC on the main thread']];
    const skip = new Set(['busy', 'codec', 'wire', '(idle)', '(garbage collector)', ...INCLUSIVE.map((n) => `fn:${n}`)]);
    const modules = [...new Set(cols.flatMap((c) => Object.keys(c)))].filter((k) => !skip.has(k) && Math.max(...cols.map((c) => c[k] ?? 0)) >= 5)
      .sort((a, b) => Math.max(...cols.map((c) => c[b] ?? 0)) - Math.max(...cols.map((c) => c[a] ?? 0)));
    const ms = (v: number | undefined) => (v === undefined ? '' : num(v));
    console.log(`CPU profiles (${opts.runs} per wire, medians): main-thread self time in ms of the measured part (the profiler samples wall time: on a loaded machine read the shares, not the ms)`);
    console.log(table(['', `first ${FIRST.calls} calls: SOAP`, 'VI/JSON', 'retrieve: SOAP', 'VI/JSON'],
      [...named.map(([k, label]) => [label, ...cols.map((c) => ms(c[k]))]), ...modules.map((k) => [k, ...cols.map((c) => ms(c[k]))])]));
    console.log();
  }
  console.log(`load average (1, 5, 15 min) as each part started: ${Object.entries(loadAverage).map(([k, l]) => `${k} ${l.map((x) => x.toFixed(2)).join(' ')}`).join('; ')}`);
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
      eventLoopDelay: 'perf_hooks.monitorEventLoopDelay({ resolution: 1 }) around the retrieve, minus the 1 ms resolution, in runs of their own (its timer costs CPU while the client waits)',
      wires: "vim25-soap and vim25-json: our driver with VimClient.connect's protocol 'soap' and 'json' (VI/JSON; the harness's endpoint turns each JSON request into SOAP and back), checked by client.protocol; run back to back in every round, which goes first alternating",
      jsonOverSoap: 'ofMedians: median(JSON) / median(SOAP); paired: JSON / SOAP of each round',
      threads: 'ours, Linux: /proc/self/task/*/schedstat around the measured part: the main thread (JavaScript) and the others (V8 compilers, GC helpers, libuv pool)',
      serverCpu: "the harness process's utime+stime (/proc/PID/stat, 10 ms ticks) around the whole child: the server's CPU, not in the client rows",
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
