// The pipeline's order: policies run in one fixed order whatever order they are given in.
import { describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { chain, type Policy, type SoapCall } from '../../../src/soap/pipeline.ts';

const call = (method: string, args: object = {}): SoapCall => ({ info: methodInfo(method)!, _this: {}, args, options: {} });

function tracing(name: Policy['name'], trace: string[]): Policy {
  return { name, handle: async (c, next) => { trace.push(`>${name}`); const v = await next(c); trace.push(`<${name}`); return v; } };
}

describe('chain', () => {
  it('runs the policies in the pipeline order, whatever order they are given in', async () => {
    const trace: string[] = [];
    const run = chain([tracing('replay', trace), tracing('logging', trace), tracing('session', trace)], async () => trace.push('exchange'));
    await run(call('CurrentTime'));
    expect(trace).toEqual(['>logging', '>session', '>replay', 'exchange', '<replay', '<session', '<logging']);
  });

  it('takes a subset (logins run without the session policy), and each policy once', async () => {
    const trace: string[] = [];
    await chain([tracing('replay', trace), tracing('logging', trace)], async () => trace.push('exchange'))(call('Login'));
    expect(trace).toEqual(['>logging', '>replay', 'exchange', '<replay', '<logging']);
    expect(() => chain([tracing('replay', trace), tracing('replay', trace)], async () => 0)).toThrow(/once/);
  });
});
