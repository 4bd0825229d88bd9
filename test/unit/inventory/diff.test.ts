import { describe, expect, it } from 'vitest';
import { vimFault } from '../../../src/soap/faults.ts';
import { diffStates, stateKey, type ObjectState } from '../../../src/inventory/diff.ts';
import { applyChange } from '../../../src/inventory/rows.ts';

const vm = (value: string) => ({ type: 'VirtualMachine' as const, value });
const states = (...s: ObjectState[]) => new Map(s.map((x) => [stateKey(x.ref), x]));

describe('diffStates', () => {
  it('enters everything when nothing was reported yet', () => {
    expect(diffStates(new Map(), states({ ref: vm('1'), props: { name: 'a' } }))).toEqual([{ kind: 'enter', ref: vm('1'), props: { name: 'a' } }]);
  });

  it('reports only the paths that changed, deep-compared, and leaves with the last known values', () => {
    const before = states(
      { ref: vm('1'), props: { name: 'a', 'runtime.powerState': 'poweredOn', 'config.hardware': { numCPU: 2, devices: [1, 2] } } },
      { ref: vm('2'), props: { name: 'b' } },
      { ref: vm('3'), props: { name: 'c' } },
    );
    const after = states(
      { ref: vm('1'), props: { name: 'a', 'runtime.powerState': 'poweredOff', 'config.hardware': { numCPU: 2, devices: [1, 2] } } },
      { ref: vm('2'), props: { name: 'b' } },
      { ref: vm('4'), props: { name: 'd' } },
    );
    expect(diffStates(before, after)).toEqual([
      { kind: 'modify', ref: vm('1'), props: { 'runtime.powerState': 'poweredOff' } },
      { kind: 'enter', ref: vm('4'), props: { name: 'd' } },
      { kind: 'leave', ref: vm('3'), props: { name: 'c' } },
    ]);
  });

  it('treats a property that became unset, or a new refusal, as a change', () => {
    const denied = { 'runtime.powerState': vimFault('WaitForUpdatesEx', { _typeName: 'NoPermission' }, '') };
    const before = states({ ref: vm('1'), props: { name: 'a', 'guest.ipAddress': '10.0.0.1' } });
    const after = states({ ref: vm('1'), props: { name: 'a' }, missing: denied });
    expect(diffStates(before, after)).toEqual([{ kind: 'modify', ref: vm('1'), props: { 'guest.ipAddress': undefined }, missing: denied }]);
    expect(diffStates(after, after)).toEqual([]);
  });
});

describe('applyChange', () => {
  it('assigns and removes a path asked for', () => {
    const props: Record<string, unknown> = { name: 'a' };
    applyChange(props, { name: 'name', op: 'assign', val: 'b' }, ['name']);
    expect(props).toEqual({ name: 'b' });
    applyChange(props, { name: 'name', op: 'remove' }, ['name']);
    expect(props).toEqual({ name: undefined });
  });

  it('writes a nested change into a copy of the enclosing value', () => {
    const info = { state: 'running', progress: 1 };
    const props: Record<string, unknown> = { info };
    applyChange(props, { name: 'info.progress', op: 'assign', val: 50 }, ['info']);
    expect(props.info).toEqual({ state: 'running', progress: 50 });
    expect(info.progress).toBe(1); // what the consumer was handed before stays as it was
    applyChange(props, { name: 'info.error.localizedMessage', op: 'assign', val: 'x' }, ['info']);
    expect(props.info).toEqual({ state: 'running', progress: 50, error: { localizedMessage: 'x' } });
  });
});

describe('diffStates and refusals', () => {
  const refused = vimFault('RetrievePropertiesEx', { _typeName: 'NoPermission' }, 'no');

  it('the same refusals in another order are no change; an empty set of them is none at all', () => {
    const before = states({ ref: vm('1'), props: { name: 'a' }, missing: { 'config.uuid': refused, 'summary.runtime': refused } });
    const after = states({ ref: vm('1'), props: { name: 'a' }, missing: { 'summary.runtime': refused, 'config.uuid': refused } });
    expect(diffStates(before, after)).toEqual([]);
    const entered = diffStates(new Map(), states({ ref: vm('2'), props: { name: 'b' }, missing: {} }));
    expect(entered).toEqual([{ kind: 'enter', ref: vm('2'), props: { name: 'b' } }]);
    expect('missing' in entered[0]!).toBe(false);
  });
});
