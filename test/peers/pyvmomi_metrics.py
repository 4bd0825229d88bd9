#!/usr/bin/python3
"""pyvmomi's QueryPerf, for comparing with the inventory layer's metrics().

  pyvmomi_metrics.py URL CA-FILE USER PASSWORD QUERIES-JSON

QUERIES-JSON is a list of {"entity": {"type", "value"}, "counters": ["cpu.usage.average", ...],
"instance": "", "interval": 20, "start": ISO, "end": ISO, "maxSample": N}. Written the way a
pyvmomi user has to: counter names mapped to ids through perfManager.perfCounter, one
PerfQuerySpec per entity, one QueryPerf. Prints one JSON list, a series each: entity, counter
(its name), instance, unit, and samples as [epoch milliseconds, raw value] in time order.
"""
import json
import ssl
import sys
from datetime import datetime
from urllib.parse import urlsplit

from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim


def name(counter):
    return '%s.%s.%s' % (counter.groupInfo.key, counter.nameInfo.key, counter.rollupType)


def when(text):
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def millis(t):
    return round(t.timestamp() * 1000)


def main():
    url, ca, user, password, queries = sys.argv[1:6]
    u = urlsplit(url)
    si = SmartConnect(host=u.hostname, port=u.port or 443, path=u.path or '/sdk', user=user, pwd=password,
                      sslContext=ssl.create_default_context(cafile=ca))
    try:
        pm = si.RetrieveContent().perfManager
        counters = list(pm.perfCounter)
        by_name = {}
        for c in counters:
            by_name.setdefault(name(c), c)
        by_key = {c.key: c for c in counters}
        specs = []
        for q in json.loads(queries):
            entity = getattr(vim, q['entity']['type'])(q['entity']['value'], si._stub)
            specs.append(vim.PerformanceManager.QuerySpec(
                entity=entity,
                metricId=[vim.PerformanceManager.MetricId(counterId=by_name[n].key, instance=q['instance']) for n in q['counters']],
                intervalId=q['interval'],
                startTime=when(q['start']),
                endTime=when(q['end']),
                maxSample=q['maxSample'],
            ))
        out = []
        for em in pm.QueryPerf(querySpec=specs):
            times = [millis(s.timestamp) for s in em.sampleInfo]
            for series in em.value:
                c = by_key[series.id.counterId]
                out.append({
                    'entity': {'type': em.entity._wsdlName, 'value': em.entity._moId},
                    'counter': name(c),
                    'instance': series.id.instance,
                    'unit': c.unitInfo.key,
                    'samples': sorted([t, v] for t, v in zip(times, series.value)),
                })
        print(json.dumps(out))
    finally:
        Disconnect(si)


if __name__ == '__main__':
    main()
