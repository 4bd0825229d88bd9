"""Power a VM off and wait for the task, with progress (power-off.ts: the same with vim25-soap).

pyVim's WaitForTask waits with the deprecated WaitForUpdates, on the session's shared
PropertyCollector, and with no deadline: a task blocked on a VM question waits until someone
answers it.
"""
import sys

from pyVim.task import WaitForTask

from connect import connect


# task: begin
def power_off(si, vm, on_progress):
    def progress(task, percent):  # pyVim reports 'created', percentages or None, then 'completed'
        if percent == 'completed':
            on_progress(100)
        elif isinstance(percent, int):
            on_progress(percent)
    task = vm.PowerOffVM_Task()
    WaitForTask(task, si=si, onProgressUpdate=progress)
# task: end


if __name__ == '__main__':
    si = connect()
    vm = si.RetrieveContent().searchIndex.FindByInventoryPath(sys.argv[4] if len(sys.argv) > 4 else 'DC0/vm/DC0_H0_VM0')
    power_off(si, vm, lambda percent: print('%s%%' % percent))
