// The session state machine with a scripted invoke: the cases a simulator cannot produce on
// demand, such as a NotAuthenticated hidden in a PropertyCollector missingSet of a 200 answer.
import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { VimFault, isVimFault } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { Session } from '../../../src/session/session.ts';
import { passwordLogin } from '../../../src/session/strategies.ts';
import type { Invoke } from '../../../src/soap/invoke.ts';

const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;
const URL_ = 'https://vc.example.com/sdk';

function setup(script: (method: string, generation: number) => unknown) {
  const calls: string[] = [];
  const events: string[] = [];
  let generation = 0;
  const invoke: Invoke = async (method) => {
    calls.push(method);
    if (method === 'Login') {
      generation++;
      return { _typeName: 'UserSession', key: `s${generation}`, userName: 'u' };
    }
    const r = script(method, generation);
    if (r instanceof Error) throw r;
    return r;
  };
  const session = new Session({
    invoke, sessionManager: SM, propertyCollector: PC, jar: new CookieJar(), url: URL_, logger: silentLogger, reauthenticate: true,
    emit: (e) => events.push(e),
    mutualTls: () => { throw new Error('not used'); },
  });
  return { session, calls, events };
}

const notAuthenticated = () => new VimFault('X', { _typeName: 'NotAuthenticated' }, '');
const missingSetResult = {
  _typeName: 'RetrieveResult',
  objects: [{ obj: { type: 'VirtualMachine', value: 'vm-1' }, missingSet: [{ path: 'name', fault: { _typeName: 'LocalizedMethodFault', fault: { _typeName: 'NotAuthenticated' } } }] }],
};

describe('Session', () => {
  it('treats NotAuthenticated in a missingSet like the fault: one re-login, one retry', async () => {
    const { session, calls, events } = setup((method, generation) => (generation === 1 ? missingSetResult : { _typeName: 'RetrieveResult', objects: [] }));
    await session.login(passwordLogin('u', 'p'));
    const r = await session.call('RetrievePropertiesEx', PC, { specSet: [], options: {} });
    expect(r).toEqual({ _typeName: 'RetrieveResult', objects: [] });
    expect(calls).toEqual(['Login', 'RetrievePropertiesEx', 'Login', 'RetrievePropertiesEx']);
    expect(events).toEqual(['login', 'reauthenticated']);
  });

  it('rejects with the fault when the retry still has it, without a third attempt', async () => {
    const { session, calls } = setup(() => missingSetResult);
    await session.login(passwordLogin('u', 'p'));
    const err = await session.call('RetrievePropertiesEx', PC, { specSet: [], options: {} }).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(calls.filter((c) => c === 'RetrievePropertiesEx')).toHaveLength(2);
  });

  it('shares one re-login among concurrent callers and does not re-login for a replaced generation', async () => {
    const { session, calls } = setup((_m, generation) => (generation === 1 ? notAuthenticated() : 'ok'));
    await session.login(passwordLogin('u', 'p'));
    const results = await Promise.all(Array.from({ length: 20 }, () => session.call('CurrentTime', {}, {})));
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(calls.filter((c) => c === 'Login')).toHaveLength(2);
  });

  it('never retries a login method', async () => {
    const { session, calls } = setup(() => notAuthenticated());
    await session.login(passwordLogin('u', 'p'));
    await expect(session.call('Logout', SM, {})).rejects.toBeInstanceOf(VimFault);
    expect(calls).toEqual(['Login', 'Logout']);
  });
});
