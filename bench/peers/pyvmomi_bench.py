#!/usr/bin/python3
"""pyvmomi side of `npm run bench` (scripts/bench.ts): the same workloads as
bench/peers/govmomi and bench/peers/vim25soap_bench.mjs.

  pyvmomi_bench.py URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]

  once                        login, CurrentTime, logout
  seq N WARMUP MAX_SECONDS    N sequential CurrentTime calls after WARMUP ones (WARMUP 0: a
                              fresh process's first N calls, the bench's `first` row)
  concurrent N CALLERS MAX_S  not measured: a pyvmomi stub is not thread-safe (prints "skipped")
  retrieve                    RetrievePropertiesEx (+Continue) of every VM via a ContainerView
                              (wall and CPU, cpuMs, from the first request to the last page)
  pages N                     the same in pages of maxObjects N, each dropped once counted

Prints one JSON line. Run it with Debian's /usr/bin/python3 (python3-pyvmomi 6.7). The server
certificate is verified against CA-FILE through an ssl.SSLContext (pyvmomi 6.7 has no
disableSslCertValidation/cafile arguments of its own).
"""
import json
import ssl
import sys
import time
from urllib.parse import urlsplit

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    url, ca_file, user, password, workload = sys.argv[1:6]
    params = [int(p) for p in sys.argv[6:]]

    def param(i, default):
        return params[i] if i < len(params) else default

    if workload == 'concurrent':
        print(json.dumps({'skipped': 'a pyvmomi stub (SoapStubAdapter) is not thread-safe'}))
        return

    u = urlsplit(url)
    ctx = ssl.create_default_context(cafile=ca_file)
    si = SmartConnect(host=u.hostname, port=u.port or 443, path=u.path or '/sdk', user=user, pwd=password, sslContext=ctx)
    out = {}
    if workload == 'once':
        out['currentTime'] = si.CurrentTime().isoformat()
    elif workload == 'seq':
        n, warmup, max_seconds = param(0, 1000), param(1, 100), param(2, 20)
        for _ in range(warmup):
            si.CurrentTime()
        deadline = time.monotonic() + max_seconds
        cpu0, start = time.process_time(), time.perf_counter()
        calls = 0
        while calls < n and time.monotonic() < deadline:
            si.CurrentTime()
            calls += 1
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
        out.update(calls=calls, cpuUsPerCall=cpu * 1e6 / calls, wallMs=wall * 1e3)
    elif workload in ('retrieve', 'pages'):
        # pages N: maxObjects N, each page dropped once counted (memory bounded by a page).
        page_size = param(0, 500) if workload == 'pages' else None
        content = si.RetrieveContent()
        pc = content.propertyCollector
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        PC = vmodl.query.PropertyCollector
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[
                PC.TraversalSpec(name='toView', type=vim.view.ContainerView, path='view', skip=False)])],
            propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=['name', 'runtime.powerState', 'config.hardware.device'])])
        options = PC.RetrieveOptions(maxObjects=page_size) if page_size else PC.RetrieveOptions()
        cpu0, start = time.process_time(), time.perf_counter()
        res = pc.RetrievePropertiesEx(specSet=[spec], options=options)
        objects, pages, vms, devices = [], 0, 0, 0
        while res is not None:
            if page_size:
                vms += len(res.objects)
                devices += sum(len(p.val) for o in res.objects for p in o.propSet if p.name == 'config.hardware.device')
            else:
                objects.extend(res.objects)
            pages += 1
            res = pc.ContinueRetrievePropertiesEx(token=res.token) if res.token else None
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
        if not page_size:
            vms = len(objects)
            devices = sum(len(p.val) for o in objects for p in o.propSet if p.name == 'config.hardware.device')
        view.DestroyView()
        out.update(vms=vms, devices=devices, pages=pages, wallMs=wall * 1e3, cpuMs=cpu * 1e3)
    else:
        print('unknown workload ' + workload, file=sys.stderr)
        sys.exit(64)
    Disconnect(si)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
