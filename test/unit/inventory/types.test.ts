// The inventory signatures, checked by the type checker (npx tsc): generic over the model's
// names, so that #17's typed model tightens them without edits here.
import { describe, expectTypeOf, it } from 'vitest';
import { isEvent, type EventTypeName, type ManagedObjectReference, type TypedEvent, type VimClient, type VmPoweredOffEvent, type WatchUpdate } from '../../../src/index.ts';
import type { Row } from '../../../src/inventory/rows.ts';

describe('inventory types', () => {
  it('a row has its ref, a key per path asked for, and the refused paths', () => {
    type R = Row<'VirtualMachine', 'name' | 'runtime.powerState'>;
    expectTypeOf<R>().toHaveProperty('ref');
    expectTypeOf<R>().toHaveProperty('name');
    expectTypeOf<R>().toHaveProperty('runtime.powerState');
    expectTypeOf<R['ref']>().toMatchTypeOf<ManagedObjectReference>();
    expectTypeOf<R['ref']['type']>().toEqualTypeOf<'VirtualMachine'>();
    expectTypeOf<NonNullable<R['missing']>>().toHaveProperty('name');
  });

  it('VimClient methods carry the type and paths through', () => {
    type Rows = Awaited<ReturnType<typeof VimClient.prototype.retrieve<'HostSystem', 'name'>>>;
    expectTypeOf<Rows[number]['ref']['type']>().toEqualTypeOf<'HostSystem'>();
    expectTypeOf<Rows[number]>().toHaveProperty('name');
    type Found = Awaited<ReturnType<typeof VimClient.prototype.find<'Datastore'>>>;
    expectTypeOf<Found[number]['type']>().toEqualTypeOf<'Datastore'>();
    expectTypeOf<WatchUpdate<'VirtualMachine', 'runtime.powerState'>['kind']>().toEqualTypeOf<'enter' | 'modify' | 'leave'>();
  });

  it('isEvent takes only the name of an event type, and narrows to that type', () => {
    expectTypeOf<'VmPoweredOffEvent'>().toExtend<EventTypeName>();
    expectTypeOf<'VirtualMachineConfigSpec'>().not.toExtend<EventTypeName>();
    const e = { _typeName: 'VmPoweredOffEvent' } as TypedEvent;
    if (isEvent(e, 'VmPoweredOffEvent')) expectTypeOf(e.vm).toEqualTypeOf<VmPoweredOffEvent['vm']>();
    // @ts-expect-error not an event type
    isEvent(e, 'VirtualMachineConfigSpec');
  });
});

