// vim25-soap side of `npm run bench` (scripts/bench.ts): the same workloads as
// bench/peers/govmomi and bench/peers/pyvmomi_bench.py, run from dist/ as users run it.
//
//   node vim25soap_bench.mjs URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]
//
//   once                        login, CurrentTime, logout
//   seq N WARMUP MAX_SECONDS    N sequential CurrentTime calls after WARMUP ones (WARMUP 0: a
//                               fresh process's first N calls, the bench's `first` row)
//   concurrent N CALLERS MAX_SECONDS [WARMUP]  N CurrentTime calls from CALLERS async callers on
//                               one client, after WARMUP ones (default CALLERS × 4)
//   retrieve                    RetrievePropertiesEx (+Continue) of every VM via a ContainerView,
//                               with the event-loop delay during it
//   inventory-retrieve          the same through client.retrieve (view, pages, rows, DestroyView)
//   pages PAGE_SIZE             the same through client.retrievePages, rows dropped page by page
//                               (its peak RSS is the point: flat whatever the inventory's size)
//
// Prints one JSON line. The library needs no WSDL; with $VIM25_WSDL_DIR set (bench --wsdl local)
// it is given that bundle, read at connect to check operations. The server certificate is
// verified against CA-FILE.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { VimClient } from '../../dist/index.js';

const [url, caFile, user, password, workload, ...rest] = process.argv.slice(2);
if (!workload) {
  console.error('usage: node vim25soap_bench.mjs URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]');
  process.exit(64);
}
const params = rest.map(Number);
const param = (i, def) => (i < params.length ? params[i] : def);
const cpuMicros = () => {
  const u = process.cpuUsage(); // getrusage(RUSAGE_SELF): every thread of the process
  return u.user + u.system;
};

const wsdl = process.env.VIM25_WSDL_DIR;
const client = await VimClient.connect(url, { tls: { ca: readFileSync(caFile) }, ...(wsdl && { wsdl }) });
await client.login({ username: user, password });
const si = client.ref('ServiceInstance', 'ServiceInstance');
const now = () => client.call('CurrentTime', si);
const out = {};
const PATHS = ['name', 'runtime.powerState', 'config.hardware.device'];

switch (workload) {
  case 'once':
    out.currentTime = (await now()).toISOString();
    break;
  case 'seq': {
    const n = param(0, 1000), warmup = param(1, 100), maxSeconds = param(2, 20);
    for (let i = 0; i < warmup; i++) await now();
    const deadline = performance.now() + maxSeconds * 1000;
    const cpu0 = cpuMicros(), start = performance.now();
    let calls = 0;
    while (calls < n && performance.now() < deadline) {
      await now();
      calls++;
    }
    const wall = performance.now() - start, cpu = cpuMicros() - cpu0;
    Object.assign(out, { calls, cpuUsPerCall: cpu / calls, wallMs: wall });
    break;
  }
  case 'concurrent': {
    const n = param(0, 4000), callers = param(1, 16), maxSeconds = param(2, 20), warmup = param(3, callers * 4);
    const run = async (total, deadline) => {
      let next = 0, done = 0;
      await Promise.all(Array.from({ length: callers }, async () => {
        while (++next <= total && performance.now() < deadline) {
          await now();
          done++;
        }
      }));
      return done;
    };
    await run(warmup, performance.now() + 60_000); // opens the connections (and warms up, as in seq)
    const start = performance.now();
    const calls = await run(n, start + maxSeconds * 1000);
    const wall = performance.now() - start;
    Object.assign(out, { calls, callers, callsPerSec: calls / (wall / 1000), wallMs: wall });
    break;
  }
  case 'retrieve': {
    const sc = client.serviceContent;
    const withView = performance.now();
    const view = await client.call('CreateContainerView', sc.viewManager, { container: sc.rootFolder, type: ['VirtualMachine'], recursive: true });
    const spec = {
      specSet: [{
        objectSet: [{ obj: view, skip: true, selectSet: [{ _typeName: 'TraversalSpec', name: 'toView', type: 'ContainerView', path: 'view', skip: false }] }],
        propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'runtime.powerState', 'config.hardware.device'] }],
      }],
      options: {},
    };
    // The histogram records the interval between its timer's runs, resolution included:
    // the delay is that minus the 1 ms resolution.
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const start = performance.now();
    let res = await client.call('RetrievePropertiesEx', sc.propertyCollector, spec);
    const objects = [];
    let pages = 0;
    while (res) {
      objects.push(...res.objects);
      pages++;
      res = res.token ? await client.call('ContinueRetrievePropertiesEx', sc.propertyCollector, { token: res.token }) : undefined;
    }
    const wall = performance.now() - start;
    delay.disable();
    let devices = 0;
    for (const o of objects) {
      for (const p of o.propSet ?? []) if (p.name === 'config.hardware.device') devices += deviceCount(p.val);
    }
    await client.call('DestroyView', view);
    const wallWithView = performance.now() - withView; // what client.retrieve does too: view, pages, DestroyView
    Object.assign(out, {
      vms: objects.length, devices, pages, wallMs: wall, wallWithViewMs: wallWithView,
      eventLoopDelay: { maxMs: lag(delay.max), p99Ms: lag(delay.percentile(99)), meanMs: lag(delay.mean), samples: delay.count },
    });
    break;
  }
  case 'inventory-retrieve': {
    const start = performance.now();
    const rows = await client.retrieve('VirtualMachine', PATHS);
    const wall = performance.now() - start;
    Object.assign(out, { vms: rows.length, devices: rows.reduce((n, r) => n + deviceCount(r['config.hardware.device']), 0), wallMs: wall });
    break;
  }
  case 'pages': {
    const pageSize = param(0, 500);
    const start = performance.now();
    let vms = 0, devices = 0, pages = 0;
    const rssMB = []; // after each page: shows where the process's memory levels off
    for await (const page of client.retrievePages('VirtualMachine', PATHS, { pageSize })) {
      pages++;
      vms += page.length;
      for (const r of page) devices += deviceCount(r['config.hardware.device']);
      rssMB.push(Math.round(process.memoryUsage().rss / 2 ** 20));
    }
    Object.assign(out, { vms, devices, pages, pageSize, wallMs: performance.now() - start, heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20, rssMB });
    break;
  }
  default:
    console.error(`unknown workload ${workload}`);
    process.exit(64);
}
await client.close(); // logs out, frees the sockets
console.log(JSON.stringify(out));

function lag(ns) {
  return Math.max(0, ns / 1e6 - 1);
}

function deviceCount(val) {
  if (Array.isArray(val)) return val.length;
  const inner = val && typeof val === 'object' ? Object.values(val).find(Array.isArray) : undefined;
  return inner ? inner.length : 0;
}
