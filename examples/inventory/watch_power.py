"""Watch the power state of every VM (watch-power.ts: vim25-soap).

A PropertyCollector of its own (so it does not block other waits), a ContainerView, a filter,
and the WaitForUpdatesEx loop with its version; all of it dies with the session, and this loop
then ends with the fault.
"""
from pyVmomi import vim, vmodl

from connect import connect


# task: begin
def watch_power(si, on_change, max_updates=None):
    content = si.RetrieveContent()
    collector = content.propertyCollector.CreatePropertyCollector()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                pc.TraversalSpec(name='view', type=vim.view.ContainerView, path='view', skip=False)])],
            propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=['runtime.powerState'])])
        collector.CreateFilter(spec, partialUpdates=False)
        version, seen = '', 0
        while max_updates is None or seen < max_updates:
            update = collector.WaitForUpdatesEx(version, pc.WaitOptions(maxWaitSeconds=30))
            if update is None:
                continue
            version = update.version
            for filter_update in update.filterSet:
                for obj in filter_update.objectSet:
                    for change in obj.changeSet:
                        on_change(obj.obj._moId, change.val)
                        seen += 1
    finally:
        view.DestroyView()
        collector.DestroyPropertyCollector()
# task: end


if __name__ == '__main__':
    watch_power(connect(), lambda vm, state: print(vm, state))
