"""The events of the last minutes (recent-events.ts: vim25-soap).

An EventHistoryCollector, read a page at a time, destroyed afterwards (vCenter limits how many
a session may hold).
"""
import sys
from datetime import timedelta

from pyVmomi import vim

from connect import connect


# task: begin
def recent_events(si, minutes):
    content = si.RetrieveContent()
    since = si.CurrentTime() - timedelta(minutes=minutes)
    spec = vim.event.EventFilterSpec(time=vim.event.EventFilterSpec.ByTime(beginTime=since))
    collector = content.eventManager.CreateCollectorForEvents(spec)
    try:
        collector.SetCollectorPageSize(100)
        collector.RewindCollector()
        out = []
        while True:
            page = collector.ReadNextEvents(100)
            if not page:
                return out
            out.extend('%s: %s' % (e._wsdlName, e.fullFormattedMessage or '')
                       for e in page if e.createdTime >= since)
    finally:
        collector.DestroyCollector()
# task: end


if __name__ == '__main__':
    for line in recent_events(connect(), int(sys.argv[4]) if len(sys.argv) > 4 else 10):
        print(line)
