#!/usr/bin/python3
"""pyvmomi's view of the inventory, for comparing with the inventory layer.

  pyvmomi_inventory.py URL CA-FILE USER PASSWORD

Prints one JSON object: "vms", every VM under the root folder (a ContainerView read with
pyvmomi's own objects: moref, name, runtime.powerState, runtime.host), and "paths", every
managed entity's inventory path (walked the way govc lists: Folder.childEntity, the datacenter's
four folders, a compute resource's hosts and resource pool, a pool's pools and VMs) -> its
type and moref.
"""
import json
import ssl
import sys
from urllib.parse import urlsplit

from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim


def children(obj):
    if isinstance(obj, vim.Folder):
        return list(obj.childEntity)
    if isinstance(obj, vim.Datacenter):
        return [obj.vmFolder, obj.hostFolder, obj.datastoreFolder, obj.networkFolder]
    if isinstance(obj, vim.ComputeResource):
        return list(obj.host) + ([obj.resourcePool] if obj.resourcePool else [])
    if isinstance(obj, vim.ResourcePool):
        return list(obj.resourcePool) + list(obj.vm)
    return []


def main():
    url, ca, user, password = sys.argv[1:5]
    u = urlsplit(url)
    si = SmartConnect(host=u.hostname, port=u.port or 443, path=u.path or '/sdk', user=user, pwd=password,
                      sslContext=ssl.create_default_context(cafile=ca))
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        try:
            vms = [{
                'moref': vm._moId,
                'name': vm.name,
                'powerState': vm.runtime.powerState,
                'host': vm.runtime.host._moId if vm.runtime.host else None,
            } for vm in view.view]
        finally:
            view.DestroyView()
        paths = {}
        todo = [('', content.rootFolder)]
        while todo:
            prefix, obj = todo.pop()
            for child in children(obj):
                path = prefix + '/' + child.name
                paths[path] = {'type': child._wsdlName, 'value': child._moId}
                todo.append((path, child))
        print(json.dumps({'vms': vms, 'paths': paths}))
    finally:
        Disconnect(si)


if __name__ == '__main__':
    main()
