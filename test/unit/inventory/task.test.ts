// waitForTask against a scripted client (no server): the session dies between an update and the
// question filter the update asks for.
import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import type { ManagedObjectReference, TaskInfo, UpdateSet } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/client.ts';
import { waitForTask } from '../../../src/inventory/task.ts';
import { vimFault } from '../../../src/soap/faults.ts';

const ref = (type: string, value: string) => ({ type, value }) as unknown as ManagedObjectReference;
const TASK = ref('Task', 'task-7');
const VM = ref('VirtualMachine', 'vm-1');
const info = (more: Partial<TaskInfo>): TaskInfo => ({ key: 'task-7', task: TASK, entity: VM, state: 'running', ...more }) as TaskInfo;
const answer = (i: TaskInfo): UpdateSet => ({
  version: '1',
  filterSet: [{ filter: ref('PropertyFilter', 'f'), objectSet: [{ kind: 'enter', obj: TASK, changeSet: [{ name: 'info', op: 'assign', val: i }] }] }],
}) as UpdateSet;

it('a session lost before the question filter of a new VM is made: the wait goes on, on a rebuilt collector with that filter', async () => {
  const client = new (class extends EventEmitter {
    readonly apiVersion = '8.0.2.0';
    readonly serviceContent = { propertyCollector: ref('PropertyCollector', 'propertyCollector') };
    readonly calls: string[] = [];
    collectors = 0;
    call = async (method: string, _this: ManagedObjectReference, args: { spec?: { propSet: { pathSet: string[] }[] } }) => {
      const what = args?.spec ? `${method} ${args.spec.propSet[0]!.pathSet[0]} on ${_this.value}` : `${method} on ${_this.value}`;
      this.calls.push(what);
      if (method === 'CreatePropertyCollector') return ref('PropertyCollector', `session[${++this.collectors}]pc`);
      if (what === 'CreateFilter runtime.question on session[1]pc') {
        // As the session layer does: re-login, then the call is retried on the new session, where the old collector does not exist.
        this.emit('reauthenticated');
        throw vimFault('CreateFilter', { _typeName: 'ManagedObjectNotFound', obj: _this }, 'managed object not found');
      }
      if (method === 'WaitForUpdatesEx') return answer(info(this.collectors === 1 ? { progress: 30 } : { state: 'success', result: VM }));
      return ref('PropertyFilter', 'f');
    };
  })();
  const seen: number[] = [];
  const result = await waitForTask(client as unknown as InventoryClient, TASK as never, { onProgress: (p) => seen.push(p) });
  expect(result).toEqual(VM);
  expect(seen).toEqual([30, 100]);
  expect(client.calls).toEqual([
    'CreatePropertyCollector on propertyCollector',
    'CreateFilter info on session[1]pc',
    'WaitForUpdatesEx on session[1]pc',
    'CreateFilter runtime.question on session[1]pc',
    'CreatePropertyCollector on propertyCollector',
    'CreateFilter info on session[2]pc',
    'CreateFilter runtime.question on session[2]pc',
    'WaitForUpdatesEx on session[2]pc',
    'DestroyPropertyCollector on session[2]pc',
  ]);
});
