// SessionManagerCalls and readCurrentSession against a recording invoke: what each call sends
// (method, object, arguments, call options) and what it makes of the answer.
import { describe, expect, it } from 'vitest';
import { readCurrentSession, SessionManagerCalls } from '../../../src/session/manager.ts';
import type { Invoke, InvokeOptions } from '../../../src/soap/pipeline.ts';

const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;

function recorder(answer: (method: string) => unknown = () => undefined) {
  const sent: { method: string; _this: unknown; args: unknown; options: InvokeOptions | undefined }[] = [];
  const invoke: Invoke = async (method, _this, args, options) => {
    sent.push({ method, _this, args, options });
    return answer(method);
  };
  return { sent, invoke, calls: new SessionManagerCalls(invoke, SM, PC) };
}

const session = { _typeName: 'UserSession', key: 's1', userName: 'VSPHERE.LOCAL\\alice' };
const answerWith = (propSet: unknown[]) => () => ({ _typeName: 'RetrieveResult', objects: [{ obj: SM, propSet }] });

describe('readCurrentSession', () => {
  it('reads SessionManager.currentSession with the given options, and is undefined when the server names none', async () => {
    const jarless = { timeoutMs: 5 };
    const { sent, invoke } = recorder(answerWith([{ name: 'currentSession', val: session }]));
    expect(await readCurrentSession(invoke, PC, SM, jarless)).toEqual(session);
    expect(sent).toEqual([{
      method: 'RetrievePropertiesEx',
      _this: PC,
      args: { specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: SM }] }], options: {} },
      options: jarless,
    }]);
    for (const empty of [undefined, {}, { objects: [] }, { objects: [{ obj: SM }] }, { objects: [{ obj: SM, propSet: [] }] }]) {
      expect(await readCurrentSession(recorder(() => empty).invoke, PC, SM)).toBeUndefined();
    }
  });
});

describe('SessionManagerCalls', () => {
  it('properties(): the properties asked for (all six by default), by name, {} when the server has none', async () => {
    const { sent, calls } = recorder(answerWith([{ name: 'message', val: 'maintenance at 5' }, { name: 'defaultLocale', val: 'en' }]));
    expect(await calls.properties()).toEqual({ message: 'maintenance at 5', defaultLocale: 'en' });
    expect(sent[0]!.args).toEqual({
      specSet: [{
        propSet: [{ type: 'SessionManager', pathSet: ['currentSession', 'sessionList', 'message', 'defaultLocale', 'supportedLocaleList', 'messageLocaleList'] }],
        objectSet: [{ obj: SM }],
      }],
      options: {},
    });
    expect(sent[0]!._this).toEqual(PC);
    const signal = new AbortController().signal;
    await calls.properties(['message'], { signal });
    expect((sent[1]!.args as { specSet: { propSet: { pathSet: string[] }[] }[] }).specSet[0]!.propSet[0]!.pathSet).toEqual(['message']);
    expect(sent[1]!.options).toEqual({ signal });
    for (const empty of [undefined, { objects: [] }, { objects: [{ obj: SM }] }]) {
      expect(await recorder(() => empty).calls.properties()).toEqual({});
    }
  });

  it('each SessionManager method is sent to the SessionManager with its arguments and the call options', async () => {
    const { sent, calls } = recorder((m) => (m === 'SessionIsActive' ? true : m === 'AcquireLocalTicket' ? { userName: 'alice' } : m === 'AcquireGenericServiceTicket' ? { id: 't' } : undefined));
    const o = { timeoutMs: 1234 };
    expect(await calls.sessionIsActive('sid', 'alice', o)).toBe(true);
    await calls.terminateSessions(['a', 'b'], o);
    await calls.setLocale('de', o);
    await calls.updateServiceMessage('hello', o);
    const spec = { _typeName: 'SessionManagerHttpServiceRequestSpec', url: 'https://esx/folder', method: 'httpGet' } as const;
    expect(await calls.acquireGenericServiceTicket(spec, o)).toEqual({ id: 't' });
    expect(await calls.acquireLocalTicket('alice', o)).toEqual({ userName: 'alice' });
    expect(sent.map(({ method, _this, args, options }) => [method, _this, args, options])).toEqual([
      ['SessionIsActive', SM, { sessionID: 'sid', userName: 'alice' }, o],
      ['TerminateSession', SM, { sessionId: ['a', 'b'] }, o],
      ['SetLocale', SM, { locale: 'de' }, o],
      ['UpdateServiceMessage', SM, { message: 'hello' }, o],
      ['AcquireGenericServiceTicket', SM, { spec }, o],
      ['AcquireLocalTicket', SM, { userName: 'alice' }, o],
    ]);
  });

  it('the call options default to none', async () => {
    const { sent, calls } = recorder();
    await calls.sessionIsActive('sid', 'alice');
    await calls.terminateSessions([]);
    await calls.setLocale('de');
    await calls.updateServiceMessage('');
    await calls.acquireGenericServiceTicket({ _typeName: 'SessionManagerServiceRequestSpec' } as never);
    await calls.acquireLocalTicket('alice');
    await calls.properties();
    expect(sent.map((s) => s.options)).toEqual([{}, {}, {}, {}, {}, {}, {}]);
  });

  it('impersonateUser: the options form and the deprecated positional one send the same, locale only when given', async () => {
    const { sent, calls } = recorder(() => session);
    const signal = new AbortController().signal;
    expect(await calls.impersonateUser({ userName: 'bob', locale: 'fr', signal })).toEqual(session);
    await calls.impersonateUser({ userName: 'bob' });
    await calls.impersonateUser('bob', 'fr');
    await calls.impersonateUser('bob');
    expect(sent.map(({ method, _this, args, options }) => [method, _this, args, options])).toEqual([
      ['ImpersonateUser', SM, { userName: 'bob', locale: 'fr' }, { signal }],
      ['ImpersonateUser', SM, { userName: 'bob' }, {}],
      ['ImpersonateUser', SM, { userName: 'bob', locale: 'fr' }, {}],
      ['ImpersonateUser', SM, { userName: 'bob' }, {}],
    ]);
  });

  it('impersonateUser without a user name is a TypeError before anything is sent', async () => {
    const { sent, calls } = recorder(() => session);
    for (const bad of [undefined, {}, { userName: '' }, { userName: 7 }, '']) {
      await expect(calls.impersonateUser(bad as never)).rejects.toThrow(new TypeError('impersonateUser needs { userName }'));
    }
    expect(sent).toEqual([]);
  });
});
