"""Every VM with its name, power state and host (list-vms.ts: the same with vim25-soap).

A ContainerView read through the PropertyCollector, every page followed, the view destroyed:
reading vm.name etc. on view.view instead would cost three round trips per VM.
"""
import json

from pyVmomi import vim, vmodl

from connect import connect


# task: begin
def list_vms(si):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        pc = vmodl.query.PropertyCollector
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[
                pc.TraversalSpec(name='view', type=vim.view.ContainerView, path='view', skip=False)])],
            propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=['name', 'runtime.powerState', 'runtime.host'])])
        collector = content.propertyCollector
        result = collector.RetrievePropertiesEx(specSet=[spec], options=pc.RetrieveOptions())
        vms = []
        while result is not None:
            for obj in result.objects:
                props = {p.name: p.val for p in obj.propSet}
                for missing in obj.missingSet:
                    raise missing.fault.fault
                host = props.get('runtime.host')
                vms.append({'name': props.get('name'), 'powerState': props.get('runtime.powerState'),
                            'host': host._moId if host else None})
            result = collector.ContinueRetrievePropertiesEx(token=result.token) if result.token else None
        return vms
    finally:
        view.DestroyView()
# task: end


if __name__ == '__main__':
    for vm in list_vms(connect()):
        print(json.dumps(vm, separators=(',', ':')))
