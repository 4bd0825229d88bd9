// vim25-soap side of `npm run bench` (scripts/bench.ts): the same workloads as
// bench/peers/govmomi and bench/peers/pyvmomi_bench.py, run from dist/ as users run it.
//
//   node vim25soap_bench.mjs [--protocol soap|json|auto] URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]
//
//   --protocol                  the wire (VimClient.connect's `protocol`, default soap); the JSON
//                               line says which one the client speaks (`protocol`)
//   --profile FILE              writes a V8 CPU profile (.cpuprofile) of the measured part only
//                               (seq's loop after its warm-up, the retrieve's pages), sampled
//                               every --profile-interval µs (default 100); not for timing runs
//   once                        login, CurrentTime, logout
//   seq N WARMUP MAX_SECONDS    N sequential CurrentTime calls after WARMUP ones (WARMUP 0: a
//                               fresh process's first N calls, the bench's `first` row)
//   concurrent N CALLERS MAX_SECONDS [WARMUP]  N CurrentTime calls from CALLERS async callers on
//                               one client, after WARMUP ones (default CALLERS × 4)
//   retrieve [WARMUP] [DELAY]   RetrievePropertiesEx (+Continue) of every VM via a ContainerView:
//                               wall and client CPU (cpuMs; on Linux split into the main thread's
//                               and the other threads') from the first request to the last decoded
//                               page, after WARMUP whole retrieves in the same process (default 0)
//                               and a pause of 200 ms;
//                               DELAY 1: with the event-loop delay during it, measured by a 1 ms
//                               timer that costs ~20 ms of CPU per second of wall (the CPU of such
//                               a run counts the wait for the server too: not a CPU measurement)
//   retrieve-floor MODE         the same request by hand on node:https, the answer's bytes dropped
//                               (MODE 0) or, on VI/JSON, JSON.parse'd (MODE 1): the floor under
//                               the retrieve's client CPU that no decoder of ours goes below
//   inventory-retrieve          the same through client.retrieve (view, pages, rows, DestroyView)
//   pages PAGE_SIZE             the same through client.retrievePages, rows dropped page by page
//                               (its peak RSS is the point: flat whatever the inventory's size)
//
// Prints one JSON line. The library needs no WSDL; with $VIM25_WSDL_DIR set (bench --wsdl local)
// it is given that bundle, read at connect to check operations. The server certificate is
// verified against CA-FILE.
//
// The driver loads as little as it can, so that a process's RSS and CPU are the library's (issue
// 34): built-ins through process.getBuiltinModule (an ES import of one makes its namespace, which
// reads every export: node:perf_hooks, `performance` and the like load modules of their own), the
// clock from process.hrtime, what only some workloads need when they run.
import { VimClient } from '../../dist/index.js';

const { readdirSync, readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { parseArgs } = process.getBuiltinModule('node:util');
/** Milliseconds on a monotonic clock. */
const clock = () => Number(process.hrtime.bigint()) / 1e6;

const { values: flags, positionals } = parseArgs({
  options: { protocol: { type: 'string', default: 'soap' }, profile: { type: 'string' }, 'profile-interval': { type: 'string', default: '100' } },
  allowPositionals: true,
});
const [url, caFile, user, password, workload, ...rest] = positionals;
if (!workload) {
  console.error('usage: node vim25soap_bench.mjs [--protocol soap|json|auto] URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]');
  process.exit(64);
}
const params = rest.map(Number);
const param = (i, def) => (i < params.length ? params[i] : def);
const cpuMicros = () => {
  const u = process.cpuUsage(); // getrusage(RUSAGE_SELF): every thread of the process
  return u.user + u.system;
};
// Linux: CPU time (ns, schedstat) of the main thread, where JavaScript runs, and of the others
// (V8's platform workers: concurrent marking and sweeping, parallel scavenges, concurrent JIT
// compilation; libuv's pool), so the CPU rows say where the process spent its time.
const threadsNs = () => {
  let main = 0, others = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      let ns = 0;
      try {
        ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        continue; // a thread that just ended
      }
      if (Number(tid) === process.pid) main += ns;
      else others += ns;
    }
  } catch {
    return undefined; // no /proc
  }
  return { main, others };
};
const threadsSplit = (t0) => {
  const t1 = threadsNs();
  return t0 && t1 && { mainThreadCpuMs: (t1.main - t0.main) / 1e6, otherThreadsCpuMs: (t1.others - t0.others) / 1e6 };
};

const wsdl = process.env.VIM25_WSDL_DIR;
const client = await VimClient.connect(url, { tls: { ca: readFileSync(caFile) }, protocol: flags.protocol, ...(wsdl && { wsdl }) });
await client.login({ username: user, password });
const si = client.ref('ServiceInstance', 'ServiceInstance');
const now = () => client.call('CurrentTime', si);
const out = { protocol: client.protocol };

// --profile: the inspector's sampling profiler around the measured part only.
let inspector;
const profileStart = async () => {
  if (!flags.profile) return;
  const { Session } = process.getBuiltinModule('node:inspector/promises'); // loaded only then: the other runs do not pay for it
  inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: Number(flags['profile-interval']) });
  await inspector.post('Profiler.start');
};
const profileStop = async () => {
  if (!inspector) return;
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(flags.profile, JSON.stringify(profile));
  inspector.disconnect();
  inspector = undefined;
};
const PATHS = ['name', 'runtime.powerState', 'config.hardware.device'];
const WINDOW = 200;

switch (workload) {
  case 'once':
    out.currentTime = (await now()).toISOString();
    break;
  case 'seq': {
    const n = param(0, 1000), warmup = param(1, 100), maxSeconds = param(2, 20);
    for (let i = 0; i < warmup; i++) await now();
    await profileStart();
    const deadline = clock() + maxSeconds * 1000;
    const threads0 = threadsNs(), cpu0 = cpuMicros(), start = clock();
    let calls = 0;
    // CPU per call of each window of WINDOW calls: where a warm-up's cost falls (issue 34).
    const windowUsPerCall = [];
    let windowStart = cpu0;
    while (calls < n && clock() < deadline) {
      await now();
      calls++;
      if (calls % WINDOW === 0) {
        const c = cpuMicros();
        windowUsPerCall.push((c - windowStart) / WINDOW);
        windowStart = c;
      }
    }
    const wall = clock() - start, cpu = cpuMicros() - cpu0, threads = threadsSplit(threads0);
    await profileStop();
    Object.assign(out, { calls, cpuUsPerCall: cpu / calls, wallMs: wall, windowUsPerCall, ...threads });
    break;
  }
  case 'concurrent': {
    const n = param(0, 4000), callers = param(1, 16), maxSeconds = param(2, 20), warmup = param(3, callers * 4);
    const run = async (total, deadline) => {
      let next = 0, done = 0;
      await Promise.all(Array.from({ length: callers }, async () => {
        while (++next <= total && clock() < deadline) {
          await now();
          done++;
        }
      }));
      return done;
    };
    await run(warmup, clock() + 60_000); // opens the connections (and warms up, as in seq)
    const start = clock();
    const calls = await run(n, start + maxSeconds * 1000);
    const wall = clock() - start;
    Object.assign(out, { calls, callers, callsPerSec: calls / (wall / 1000), wallMs: wall });
    break;
  }
  case 'retrieve': {
    // retrieve [WARMUP]: WARMUP whole retrieves first (view to DestroyView), in the same process,
    // then the measured one: WARMUP 1 shows the cost once the decoder's code is compiled and the
    // heap grown, against a fresh process's first (WARMUP 0, the bench's retrieve rows).
    const warmup = param(0, 0), withDelay = param(1, 0) === 1;
    const earlier = [];
    for (let i = 0; i < warmup; i++) {
      const r = await retrieveAll(false, false);
      earlier.push({ wallMs: r.wallMs, cpuMs: r.cpuMs, ...r.threads });
    }
    if (warmup > 0) {
      // A pause before the measured one: V8's concurrent compilations and GC of the warm-up end
      // in it, and so does the body of the warm-up's last answer (DestroyView's 204 on VI/JSON;
      // a call started before it has ended finds a request in flight, and the client moves to
      // undici's pools then, loading undici: not what this run measures).
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const r = await retrieveAll(true, withDelay);
    Object.assign(out, {
      vms: r.objects.length, devices: r.devices, pages: r.pages, wallMs: r.wallMs, cpuMs: r.cpuMs, ...r.threads, wallWithViewMs: r.wallWithViewMs,
      ...(withDelay && { eventLoopDelay: r.eventLoopDelay }), ...(warmup > 0 && { earlier }),
    });
    break;
  }
  case 'retrieve-floor': {
    // The same request without the library's pipeline or decoder, on the client's wire: one
    // node:https request with the session, its answer read and dropped (MODE 0) or, on VI/JSON,
    // parsed by JSON.parse (MODE 1: numbers as doubles, no types: what a decoder cannot beat).
    // What no decoder of ours can go below, measured as `retrieve` is (fresh process, CPU of the
    // request to the last byte).
    const mode = param(0, 0);
    const sc = client.serviceContent;
    const view = await client.call('CreateContainerView', sc.viewManager, { container: sc.rootFolder, type: ['VirtualMachine'], recursive: true });
    const { request } = process.getBuiltinModule('node:https');
    const u = new URL(url);
    const release = client.apiVersion;
    const json = client.protocol === 'json';
    const path = json ? `${u.pathname.replace(/\/+$/, '')}/vim25/${release}/PropertyCollector/${sc.propertyCollector.value}/RetrievePropertiesEx` : u.pathname;
    const body = json
      ? JSON.stringify({
        specSet: [{
          _typeName: 'PropertyFilterSpec',
          propSet: [{ _typeName: 'PropertySpec', type: 'VirtualMachine', pathSet: PATHS }],
          objectSet: [{ _typeName: 'ObjectSpec', obj: { _typeName: 'ManagedObjectReference', type: view.type, value: view.value }, skip: true, selectSet: [{ _typeName: 'TraversalSpec', name: 'toView', type: 'ContainerView', path: 'view', skip: false }] }],
        }],
        options: { _typeName: 'RetrieveOptions' },
      })
      : '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' +
        `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${sc.propertyCollector.value}</_this><specSet>` +
        `<propSet><type>VirtualMachine</type>${PATHS.map((x) => `<pathSet>${x}</pathSet>`).join('')}</propSet>` +
        `<objectSet><obj type="${view.type}">${view.value}</obj><skip>true</skip><selectSet xsi:type="TraversalSpec"><name>toView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>` +
        '</specSet><options></options></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>';
    const headers = json
      ? { 'Content-Type': 'application/json', Accept: 'application/json', 'vmware-api-session-id': client.sessionId }
      : { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `urn:vim25/${release}`, Cookie: `vmware_soap_session="${client.sessionId}"` };
    const threads0 = threadsNs(), cpu0 = cpuMicros(), start = clock();
    const { status, bytes, value, firstByteMs } = await new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path, method: 'POST', ca: readFileSync(caFile), headers, agent: false }, (res) => {
        const chunks = [];
        let bytes = 0, firstByteMs;
        res.on('data', (c) => {
          firstByteMs ??= clock() - start;
          bytes += c.length;
          if (mode === 1) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode, bytes, firstByteMs, value: mode === 1 ? (json ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : Buffer.concat(chunks).toString('utf8')) : undefined }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const wall = clock() - start, cpu = cpuMicros() - cpu0, threads = threadsSplit(threads0);
    if (status !== 200) throw new Error(`retrieve-floor: HTTP ${status}`);
    await client.call('DestroyView', view);
    // firstByteMs: when the answer's first bytes came (the rest of wallMs is the transfer).
    Object.assign(out, { mode, bytes, vms: json && value ? value.objects.length : undefined, wallMs: wall, firstByteMs, cpuMs: cpu / 1000, ...threads });
    break;
  }
  case 'inventory-retrieve': {
    const start = clock();
    const rows = await client.retrieve('VirtualMachine', PATHS);
    const wall = clock() - start;
    Object.assign(out, { vms: rows.length, devices: rows.reduce((n, r) => n + deviceCount(r['config.hardware.device']), 0), wallMs: wall });
    break;
  }
  case 'pages': {
    const pageSize = param(0, 500);
    const start = clock();
    let vms = 0, devices = 0, pages = 0;
    const rssMB = []; // after each page: shows where the process's memory levels off
    for await (const page of client.retrievePages('VirtualMachine', PATHS, { pageSize })) {
      pages++;
      vms += page.length;
      for (const r of page) devices += deviceCount(r['config.hardware.device']);
      rssMB.push(Math.round(process.memoryUsage().rss / 2 ** 20));
    }
    Object.assign(out, { vms, devices, pages, pageSize, wallMs: clock() - start, heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20, rssMB });
    break;
  }
  default:
    console.error(`unknown workload ${workload}`);
    process.exit(64);
}
await client.close(); // logs out, frees the sockets
console.log(JSON.stringify(out));

/** RetrievePropertiesEx + every Continue of the VMs through a ContainerView, as govmomi's and pyvmomi's peers do. */
async function retrieveAll(measured, withDelay) {
  const sc = client.serviceContent;
  const withView = clock();
  const view = await client.call('CreateContainerView', sc.viewManager, { container: sc.rootFolder, type: ['VirtualMachine'], recursive: true });
  const spec = {
    specSet: [{
      objectSet: [{ obj: view, skip: true, selectSet: [{ _typeName: 'TraversalSpec', name: 'toView', type: 'ContainerView', path: 'view', skip: false }] }],
      propSet: [{ type: 'VirtualMachine', pathSet: PATHS }],
    }],
    options: {},
  };
  // The histogram records the interval between its timer's runs, resolution included:
  // the delay is that minus the 1 ms resolution.
  const delay = withDelay ? process.getBuiltinModule('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 }) : undefined;
  delay?.enable();
  if (measured) await profileStart();
  const threads0 = threadsNs(), cpu0 = cpuMicros(), start = clock();
  let res = await client.call('RetrievePropertiesEx', sc.propertyCollector, spec);
  const objects = [];
  let pages = 0;
  while (res) {
    objects.push(...res.objects);
    pages++;
    res = res.token ? await client.call('ContinueRetrievePropertiesEx', sc.propertyCollector, { token: res.token }) : undefined;
  }
  const wallMs = clock() - start, cpuMs = (cpuMicros() - cpu0) / 1000, threads = threadsSplit(threads0);
  if (measured) await profileStop();
  delay?.disable();
  let devices = 0;
  for (const o of objects) {
    for (const p of o.propSet ?? []) if (p.name === 'config.hardware.device') devices += deviceCount(p.val);
  }
  await client.call('DestroyView', view);
  const wallWithViewMs = clock() - withView; // what client.retrieve does too: view, pages, DestroyView
  const eventLoopDelay = delay && { maxMs: lag(delay.max), p99Ms: lag(delay.percentile(99)), meanMs: lag(delay.mean), samples: delay.count };
  return { objects, devices, pages, wallMs, cpuMs, threads, wallWithViewMs, eventLoopDelay };
}

function lag(ns) {
  return Math.max(0, ns / 1e6 - 1);
}

function deviceCount(val) {
  if (Array.isArray(val)) return val.length;
  const inner = val && typeof val === 'object' ? Object.values(val).find(Array.isArray) : undefined;
  return inner ? inner.length : 0;
}
