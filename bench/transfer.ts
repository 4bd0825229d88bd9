// Transfers against govmomi (issue 29): a 1 GiB random file uploaded to a datastore of the
// harness (vcsim, /folder) and downloaded back to a file, by our client (client.datastore.upload
// from the file's path, .downloadTo a file) and by govmomi's Datastore.UploadFile/DownloadFile
// (test/peers/govmomi-datastore, Debian's govmomi sources), and an OVA with a 1 GiB disk
// imported by ours (client.importOva from the .ova's path, its SHA-256 manifest checked) and by
// govmomi's ovf.Manager + nfc.Lease as govc import.ova does (the peer's import-ova; it checks no
// manifest). For each: MiB/s and the rise of the process's peak RSS.
//
//   tsx bench/transfer.ts [--runs 3] [--size-mib 1024] [--only upload,download,ova] [--client src|dist] [--out bench/transfer.json]
//
// Every measured transfer is a fresh child process. Its peak RSS (VmHWM of /proc/self/status,
// which each child prints: getrusage's maxrss, process.resourceUsage().maxRSS, would include the
// driver's own pages, inherited through the fork before the exec) is set against a baseline child
// of the same client that does everything but the transfer (connect, login, find the datastore:
// `none`), run in the same round; the row's rise is the median over rounds of (peak − that
// round's baseline). Rounds interleave ours and govmomi's, the order alternating, so the
// machine's load weighs on both alike; the load average is recorded at each measurement.
//
// Our children load the client from src (default, as the tests do) or, with --client dist, from
// the built package (npm run build first), as users run it: a process on dist/ peaks ~40 MiB
// lower before any transfer (tsx transpiling src is in the first). The rise is a difference
// either way.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const DS = 'LocalDS_0';

interface ChildResult {
  client: 'vim25-soap' | 'govmomi';
  op: string;
  ms: number;
  bytes: number;
  /** getrusage's maxrss, which includes the spawning parent's pages (see vmHwmKiB): kept for reference. */
  maxRssKiB: number;
  /** The child's own peak RSS (VmHWM): what the rows use. */
  hwmKiB: number;
  /** Node only: the largest heapTotal / arrayBuffers / external seen, sampled every 50 ms. */
  peaks?: { heapTotalMiB: number; arrayBuffersMiB: number; externalMiB: number } | undefined;
  load: number;
}

/**
 * The peak resident set of this process's own memory map (VmHWM, KiB), Linux only. getrusage's
 * ru_maxrss (process.resourceUsage().maxRSS) keeps the high-water mark from before the exec: a
 * child spawned by a 300 MiB process reports >= 300 MiB whatever it does (measured), so the
 * driver's own size would hide the children's.
 */
function vmHwmKiB(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---- the child: one transfer of our client, in a process of its own ----

async function child(argv: string[]): Promise<void> {
  const [from, op, url, ca, user, password, a, b] = argv as [string, string, string, string, string, string, string, string];
  const { VimClient } = (from === 'dist' ? await import('../dist/index.js' as string) : await import('../src/index.ts')) as typeof import('../src/index.ts');
  const { bundleIfPresent } = await import('../scripts/lib/paths.ts');
  const wsdl = bundleIfPresent();
  const c = await VimClient.connect(url, { ...(wsdl ? { wsdl } : {}), tls: { ca: readFileSync(ca) } });
  await c.login({ username: user, password });
  const peaks = { heapTotal: 0, arrayBuffers: 0, external: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
    peaks.external = Math.max(peaks.external, m.external);
  };
  let bytes = 0;
  let t0 = 0;
  const timer = setInterval(sample, 50);
  let vm: import('../src/index.ts').ManagedObjectReference<'VirtualMachine'> | undefined;
  switch (op) {
    case 'none':
      // What an upload or download does before its first byte: the target located.
      await c.datastore.url(`[${DS}] ${a}`);
      t0 = performance.now();
      break;
    case 'upload':
      await c.datastore.url(`[${DS}] ${b}`);
      t0 = performance.now();
      await c.datastore.upload(`[${DS}] ${b}`, a, { onProgress: (p) => (bytes = p.bytes) });
      break;
    case 'download':
      await c.datastore.url(`[${DS}] ${a}`);
      t0 = performance.now();
      await c.datastore.downloadTo(`[${DS}] ${a}`, b);
      bytes = statSync(b).size;
      break;
    case 'ova':
      t0 = performance.now();
      vm = await c.importOva(a, { name: b, onProgress: (p) => (bytes = p.bytes) });
      break;
    default:
      throw new Error(`unknown op ${op}`);
  }
  const ms = performance.now() - t0;
  clearInterval(timer);
  sample();
  const maxRssKiB = process.resourceUsage().maxRSS;
  const hwmKiB = vmHwmKiB() ?? maxRssKiB;
  const mib = (n: number): number => +(n / MiB).toFixed(1);
  const out = { op, ms: +ms.toFixed(1), bytes, maxRssKiB, hwmKiB, peaks: { heapTotalMiB: mib(peaks.heapTotal), arrayBuffersMiB: mib(peaks.arrayBuffers), externalMiB: mib(peaks.external) } };
  // The imported VM and its 1 GiB disk go, once measured, so rounds do not fill the disk.
  if (vm) await c.waitForTask(await c.call('Destroy_Task', vm, {}));
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await c.close();
}

// ---- the driver ----

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd: ROOT, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.slice(0, 2).join(' ')} failed: ${stderr || err.message}`));
      else resolvePromise(stdout);
    });
  });
}

const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: MiB }), h);
  return h.digest('hex');
}

/** `size` random bytes at `path`, written a MiB at a time; their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  const out = createWriteStream(path);
  for (let done = 0; done < size; done += MiB) {
    const chunk = randomBytes(Math.min(MiB, size - done));
    h.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
  return h.digest('hex');
}

/** An OVA (descriptor, manifest, disk) around the disk file at `disk`, streamed into the tar. */
async function buildOva(path: string, disk: string, diskSha: string): Promise<void> {
  const tar = (await import('tar-stream')).default;
  const { ovfDescriptor } = await import('../test/unit/transfer/ovf-fixtures.ts');
  const size = statSync(disk).size;
  const href = 'bench-disk1.vmdk';
  const descriptor = ovfDescriptor({ name: 'bench', disks: [{ href, size, data: Buffer.alloc(0), capacityMB: Math.ceil(size / MiB) }] });
  const manifest = `SHA256(bench.ovf)= ${createHash('sha256').update(descriptor).digest('hex')}\nSHA256(${href})= ${diskSha}\n`;
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(path));
  pack.entry({ name: 'bench.ovf' }, descriptor);
  pack.entry({ name: 'bench.mf' }, manifest);
  const entry = pack.entry({ name: href, size });
  await pipeline(createReadStream(disk), entry);
  pack.finalize();
  await written;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (n: number): number => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      'size-mib': { type: 'string', default: '1024' },
      only: { type: 'string', default: 'upload,download,ova' },
      out: { type: 'string' },
      client: { type: 'string', default: 'src' },
    },
  });
  const from = values.client!;
  if (from !== 'src' && from !== 'dist') throw new Error('--client is src or dist');
  const runs = Number(values.runs);
  const sizeMiB = Number(values['size-mib']);
  const only = new Set(values.only!.split(','));
  const full = runs >= 3 && sizeMiB === 1024 && only.size === 3;
  const out = resolve(values.out ?? join(ROOT, full ? 'bench/transfer.json' : 'bench/results-transfer-partial.json'));
  const size = sizeMiB * MiB;

  const { Harness } = await import('../test/harness/vcsim.ts');
  const { bundleIfPresent } = await import('../scripts/lib/paths.ts');
  const peer = execFileSync('bash', [join(ROOT, 'scripts/build-go.sh'), 'test/peers/govmomi-datastore', 'govmomi-datastore'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'vim25-bench-transfer-'));
  const file = join(dir, 'random.bin');
  const ova = join(dir, 'bench.ova');
  console.error(`writing ${sizeMiB} MiB of random bytes to ${dir}`);
  const sha = await randomFile(file, size);
  if (only.has('ova')) await buildOva(ova, file, sha);
  const h = await Harness.start({ wsdlDir: bundleIfPresent(), captureDir: '' });
  const i = h.info;
  const login = [i.url, i.certFile, i.username, i.password];
  const results: Array<ChildResult & { round: number }> = [];
  const loads: number[] = [];

  const ours = async (op: string, a: string, b: string, round: number): Promise<void> => {
    const load = loadavg()[0]!;
    const r = JSON.parse(lastLine(await run(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', from, op, ...login, a, b]))) as Omit<ChildResult, 'client' | 'load'>;
    results.push({ ...r, client: 'vim25-soap', load, round });
    loads.push(load);
    console.error(`  round ${round} vim25-soap ${op}: ${r.ms} ms, peak RSS ${(r.hwmKiB / 1024).toFixed(1)} MiB, peaks ${JSON.stringify(r.peaks)}, load ${load.toFixed(1)}`);
  };
  const govmomi = async (op: string, args: string[], round: number): Promise<void> => {
    const load = loadavg()[0]!;
    const r = JSON.parse(lastLine(await run(peer, ['-url', i.url, '-ca', i.certFile, '-user', i.username, '-password', i.password, '-report', op, ...args]))) as { ms: number; maxRssKiB: number; hwmKiB: number };
    const bytes = op === 'none' ? 0 : size;
    results.push({ client: 'govmomi', op: op === 'import-ova' ? 'ova' : op, ms: r.ms, bytes, maxRssKiB: r.maxRssKiB, hwmKiB: r.hwmKiB || r.maxRssKiB, load, round });
    loads.push(load);
    console.error(`  round ${round} govmomi ${op}: ${r.ms} ms, peak RSS ${(r.hwmKiB / 1024).toFixed(1)} MiB, load ${load.toFixed(1)}`);
  };

  const checks: Record<string, boolean> = {};
  const started = new Date();
  try {
    // One upload of each first, so that downloads have their files, and the harness's first-use
    // costs are not in a measured round.
    await ours('upload', file, 'bench/ours.bin', 0);
    await govmomi('upload', [file, DS, 'bench/govmomi.bin'], 0);
    results.length = 0;
    loads.length = 0;
    for (let round = 1; round <= runs; round++) {
      const oursFirst = round % 2 === 1;
      const pair = async (a: () => Promise<void>, b: () => Promise<void>): Promise<void> => {
        if (oursFirst) {
          await a();
          await b();
        } else {
          await b();
          await a();
        }
      };
      await pair(() => ours('none', 'bench/ours.bin', '-', round), () => govmomi('none', [DS, '-', '-'], round));
      if (only.has('upload')) await pair(() => ours('upload', file, 'bench/ours.bin', round), () => govmomi('upload', [file, DS, 'bench/govmomi.bin'], round));
      if (only.has('download')) {
        const back = join(dir, 'back.bin');
        const goBack = join(dir, 'go-back.bin');
        await pair(() => ours('download', 'bench/ours.bin', back, round), () => govmomi('download', [DS, 'bench/govmomi.bin', goBack], round));
        // Byte for byte, once: what went up came back, through each client.
        if (round === 1) {
          checks.oursRoundTrip = (await sha256File(back)) === sha;
          checks.govmomiRoundTrip = (await sha256File(goBack)) === sha;
        }
        rmSync(back, { force: true });
        rmSync(goBack, { force: true });
      }
      if (only.has('ova')) {
        await pair(() => ours('ova', ova, `bench-ova-${round}`, round), () => govmomi('import-ova', [ova, DS, `bench-go-ova-${round}`], round));
        // What the harness received for the disk (its lease record): every byte, as read.
        const { harnessLeases } = await import('../test/integration/transfer-ovf-harness.ts');
        const leases = (await harnessLeases(i)).leases.filter((l) => l.kind === 'import').slice(-2);
        const whole = leases.length === 2 && leases.every((l) => l.state === 'completed' && l.files?.[0]?.bytes === size && l.files[0].sha256 === sha);
        checks.ovaDisksArrivedWhole = (checks.ovaDisksArrivedWhole ?? true) && whole;
      }
    }
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: unknown[] = [];
  for (const client of ['vim25-soap', 'govmomi'] as const) {
    const base = new Map(results.filter((r) => r.client === client && r.op === 'none').map((r) => [r.round, r.hwmKiB]));
    for (const op of ['upload', 'download', 'ova']) {
      const mine = results.filter((r) => r.client === client && r.op === op);
      if (mine.length === 0) continue;
      const mibps = mine.map((r) => r.bytes / MiB / (r.ms / 1000));
      const rise = mine.map((r) => (r.hwmKiB - base.get(r.round)!) / 1024);
      rows.push({
        client,
        op,
        runs: mine.length,
        bytes: mine[0]!.bytes,
        mibps: round1(median(mibps)),
        mibpsRange: [round1(Math.min(...mibps)), round1(Math.max(...mibps))],
        peakRssMiB: round1(median(mine.map((r) => r.hwmKiB / 1024))),
        baselinePeakRssMiB: round1(median([...base.values()].map((k) => k / 1024))),
        rssRiseMiB: round1(median(rise)),
        rssRiseRange: [round1(Math.min(...rise)), round1(Math.max(...rise))],
        ...(client === 'vim25-soap' ? { peaks: mine.map((r) => r.peaks) } : {}),
        load: mine.map((r) => round1(r.load)),
      });
    }
  }
  const record = {
    date: started.toISOString(),
    node: process.version,
    load: { min: round1(Math.min(...loads)), median: round1(median(loads)), max: round1(Math.max(...loads)), cores: (await import('node:os')).cpus().length },
    settings: {
      runs,
      sizeMiB,
      datastore: DS,
      ours: `${from === 'dist' ? 'dist/ (the built package)' : 'src'} under node --import tsx; client.datastore.upload(target, filePath) / .downloadTo(target, filePath) / client.importOva(ovaPath) (descriptor, SHA256 manifest, one disk of sizeMiB)`,
      govmomi: 'test/peers/govmomi-datastore: object.Datastore.UploadFile / DownloadFile; import-ova: ovf.Manager.CreateImportSpec, ImportVApp, nfc.Lease.Upload from the tar stream, as govc import.ova (no manifest check) (Debian govmomi sources)',
      rss: 'peak RSS = the child\'s VmHWM (/proc/self/status; getrusage\'s maxrss, kept in raw[].maxRssKiB, includes the spawning driver\'s pages). rssRiseMiB: median over rounds of (peak RSS of the transfer child - peak RSS of that round\'s baseline child of the same client, which connects, logs in and locates the datastore but moves no byte)',
      mibps: 'bytes / the transfer\'s wall time in the child (after login and locating the datastore; the OVA import from the call to its return, every vim25 call of the import included)',
    },
    checks,
    rows,
    raw: results,
  };
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  console.error(`wrote ${out}`);
  for (const r of rows as Array<Record<string, unknown>>) console.error(`${String(r.client).padEnd(11)} ${String(r.op).padEnd(9)} ${String(r.mibps).padStart(7)} MiB/s ${JSON.stringify(r.mibpsRange)}  RSS +${String(r.rssRiseMiB)} MiB ${JSON.stringify(r.rssRiseRange)}`);
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main();
