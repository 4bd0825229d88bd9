"""VMs by inventory path, with a glob in the last level (find-by-path.ts: vim25-soap).

SearchIndex.FindByInventoryPath takes no globs, so the folder is looked up and its children's
names are matched here; '...' (any depth) would need a walk of its own.
"""
import fnmatch
import sys

from pyVmomi import vim

from connect import connect


# task: begin
def find_by_path(si, pattern):
    content = si.RetrieveContent()
    folder_path, _, name_glob = pattern.strip('/').rpartition('/')
    folder = content.searchIndex.FindByInventoryPath(folder_path)
    if folder is None:
        return []
    children = folder.childEntity if isinstance(folder, vim.Folder) else []
    return [c for c in children if isinstance(c, vim.VirtualMachine) and fnmatch.fnmatchcase(c.name, name_glob)]
# task: end


if __name__ == '__main__':
    for vm in find_by_path(connect(), sys.argv[4] if len(sys.argv) > 4 else '/DC0/vm/*'):
        print(vm._moId)
