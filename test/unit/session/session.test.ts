// The session state machine with a scripted invoke: the cases a simulator cannot produce on
// demand, such as a NotAuthenticated hidden in a PropertyCollector missingSet of a 200 answer.
import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { TransportError, VimFault, isVimFault } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { Session } from '../../../src/session/session.ts';
import { passwordLogin, type LoginStrategy } from '../../../src/session/strategies.ts';
import type { UserSession } from '../../../src/generated/types.ts';
import type { Invoke } from '../../../src/soap/pipeline.ts';
import type { MethodInfo } from '../../../src/binding/metadata.ts';

const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;
const URL_ = 'https://vc.example.com/sdk';

/** A scripted server: Login answers with a new session (a cookie in the jar the request used) unless the password is 'wrong' or `loginGate` holds it. */
function setup(script: (method: string, generation: number) => unknown, loginGate?: () => Promise<void>, reauthenticate = true) {
  const calls: string[] = [];
  const events: string[] = [];
  const cookies: (string | undefined)[] = [];
  let generation = 0;
  const jar = new CookieJar();
  const invoke: Invoke = async (method, _this, args, options) => {
    calls.push(method);
    const used = options?.jar ?? jar;
    cookies.push(used.getCookiesSync(URL_).find((c) => c.key === 'vmware_soap_session')?.value);
    if (method === 'Login') {
      await loginGate?.();
      if ((args as { password?: string }).password === 'wrong') throw new VimFault('Login', { _typeName: 'InvalidLogin' }, 'wrong');
      generation++;
      used.setCookieSync(`vmware_soap_session="s${generation}"; Path=/`, URL_);
      return { _typeName: 'UserSession', key: `s${generation}`, userName: 'u' };
    }
    const r = script(method, generation);
    if (r instanceof Error) throw r;
    return r;
  };
  const session = new Session({
    invoke, sessionManager: SM, propertyCollector: PC, jar, url: URL_, logger: silentLogger, reauthenticate,
    emit: (e) => events.push(e),
    mutualTls: undefined as never, // no extension logins here
  });
  // The session policy as the pipeline runs it, around the scripted server.
  const call: Invoke = (method, _this, args, options = {}) =>
    session.policy.handle({ info: { name: method } as MethodInfo, _this, args, options }, (c) => invoke(c.info.name, c._this, c.args, c.options));
  return { session, call, calls, events, cookies };
}

const notAuthenticated = () => new VimFault('X', { _typeName: 'NotAuthenticated' }, '');
const missingSetResult = {
  _typeName: 'RetrieveResult',
  objects: [{ obj: { type: 'VirtualMachine', value: 'vm-1' }, missingSet: [{ path: 'name', fault: { _typeName: 'LocalizedMethodFault', fault: { _typeName: 'NotAuthenticated' } } }] }],
};

describe('Session', () => {
  it('treats NotAuthenticated in a missingSet like the fault: one re-login, one retry', async () => {
    const { session, call, calls, events } = setup((method, generation) => (generation === 1 ? missingSetResult : { _typeName: 'RetrieveResult', objects: [] }));
    await session.login(passwordLogin('u', 'p'));
    const r = await call('RetrievePropertiesEx', PC, { specSet: [], options: {} });
    expect(r).toEqual({ _typeName: 'RetrieveResult', objects: [] });
    expect(calls).toEqual(['Login', 'RetrievePropertiesEx', 'Login', 'RetrievePropertiesEx']);
    expect(events).toEqual(['login', 'reauthenticated']);
  });

  it('rejects with the fault when the retry still has it, without a third attempt', async () => {
    const { session, call, calls } = setup(() => missingSetResult);
    await session.login(passwordLogin('u', 'p'));
    const err = await call('RetrievePropertiesEx', PC, { specSet: [], options: {} }).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(calls.filter((c) => c === 'RetrievePropertiesEx')).toHaveLength(2);
  });

  it('shares one re-login among concurrent callers and does not re-login for a replaced generation', async () => {
    const { session, call, calls } = setup((_m, generation) => (generation === 1 ? notAuthenticated() : 'ok'));
    await session.login(passwordLogin('u', 'p'));
    const results = await Promise.all(Array.from({ length: 20 }, () => call('CurrentTime', {}, {})));
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(calls.filter((c) => c === 'Login')).toHaveLength(2);
  });

  it('never retries a login method', async () => {
    const { session, call, calls } = setup(() => notAuthenticated());
    await session.login(passwordLogin('u', 'p'));
    await expect(call('Logout', SM, {})).rejects.toBeInstanceOf(VimFault);
    expect(calls).toEqual(['Login', 'Logout']);
  });
});

describe('Session, replacing and ending sessions', () => {
  it('a refused login leaves the working session as it was: no Logout, same cookie, calls go on', async () => {
    const { session, call, calls, cookies } = setup(() => 'ok');
    await session.login(passwordLogin('u', 'p'));
    const before = session.sessionId;
    const err = await session.login(passwordLogin('u', 'wrong')).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidLogin')).toBe(true);
    expect(session.sessionId).toBe(before);
    expect(session.userSession?.key).toBe('s1');
    expect(await call('CurrentTime', {}, {})).toBe('ok');
    expect(calls).toEqual(['Login', 'Login', 'CurrentTime']);
    // The refused Login went without the client's session cookie; the call after it with it.
    expect(cookies).toEqual([undefined, undefined, '"s1"']);
  });

  it('a successful second login logs the old session out, then switches', async () => {
    const { session, calls, cookies, events } = setup(() => 'ok');
    await session.login(passwordLogin('u', 'p'));
    await session.login(passwordLogin('u', 'p'));
    expect(calls).toEqual(['Login', 'Login', 'Logout']);
    expect(cookies).toEqual([undefined, undefined, '"s1"']);
    expect(session.sessionId).toBe('s2');
    expect(events).toEqual(['login', 'logout', 'login']);
  });

  it('ended() lets go of a session a Logout sent elsewhere ended: no Logout of its own, the logout event, and no re-login brings it back', async () => {
    const { session, call, calls, events } = setup(() => notAuthenticated());
    await session.login(passwordLogin('u', 'p'));
    await session.ended();
    expect(session.sessionId).toBeUndefined();
    expect(session.userSession).toBeUndefined();
    expect(events).toEqual(['login', 'logout']);
    expect(isVimFault(await call('CurrentTime', {}, {}).catch((e: unknown) => e), 'NotAuthenticated')).toBe(true);
    expect(calls).toEqual(['Login', 'CurrentTime']);
  });

  it('calls waiting for a re-login reject with ECLOSED when the client closes', async () => {
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const { session, call } = setup((_m, generation) => (generation === 1 ? notAuthenticated() : 'ok'), () => gate ?? Promise.resolve());
    await session.login(passwordLogin('u', 'p'));
    gate = new Promise<void>((r) => (release = r));
    const waiting = Array.from({ length: 3 }, () => call('CurrentTime', {}, {}).catch((e: unknown) => e));
    await new Promise((r) => setImmediate(r));
    session.close();
    release();
    for (const err of await Promise.all(waiting)) expect(err).toMatchObject({ name: 'TransportError', code: 'ECLOSED' });
  });

  it('a signal stops a call waiting for a re-login', async () => {
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const { session, call } = setup((_m, generation) => (generation === 1 ? notAuthenticated() : 'ok'), () => gate ?? Promise.resolve());
    await session.login(passwordLogin('u', 'p'));
    gate = new Promise<void>((r) => (release = r));
    const first = call('CurrentTime', {}, {});
    await new Promise((r) => setImmediate(r));
    const controller = new AbortController();
    const second = call('CurrentTime', {}, {}, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    const err = await second;
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    // A reason of the caller's own is what the call rejects with.
    const mine = new Error('shutting down');
    const other = new AbortController();
    const third = call('CurrentTime', {}, {}, { signal: other.signal }).catch((e: unknown) => e);
    other.abort(mine);
    expect(await third).toBe(mine);
    release();
    expect(await first).toBe('ok');
  });

  it('an aborted logout stops waiting for a re-login in flight and lets go; the re-login then ends its new session', async () => {
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const { session, call, calls, events } = setup((_m, generation) => (generation === 1 ? notAuthenticated() : 'ok'), () => gate ?? Promise.resolve());
    await session.login(passwordLogin('u', 'p'));
    gate = new Promise<void>((r) => (release = r));
    const pending = call('CurrentTime', {}, {}).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    const controller = new AbortController();
    const logout = session.logout(controller.signal).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    controller.abort();
    expect(await logout).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(session.sessionId).toBeUndefined();
    expect(events).toEqual(['login', 'logout']);
    release();
    await pending;
    // The session the re-login made belongs to nobody: it is logged out right after, and not
    // adopted (the aborted logout itself sent nothing).
    expect(calls.filter((c) => c === 'Logout')).toHaveLength(1);
    expect(calls.indexOf('Logout')).toBe(calls.lastIndexOf('Login') + 1);
    expect(session.sessionId).toBeUndefined();
  });

  it('a call before any login says to log in', async () => {
    const { call } = setup(() => notAuthenticated());
    const err = await call('CurrentTime', {}, {}).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect((err as Error).message).toMatch(/log in first/);
  });
});

/** A strategy of the test's own: logs in with Login, and says how it lets go of a shared session. */
function sharedStrategy(verdict: 'logout' | 'keep' | 'fails', log: string[], replayable = true): LoginStrategy {
  return {
    kind: 'shared',
    replayable,
    login: async ({ invoke, sessionManager }) => (await invoke('Login', sessionManager, { userName: 'u', password: 'p' })) as UserSession,
    release: async (mode) => {
      log.push(`release ${mode}`);
      if (verdict === 'fails') throw new Error('store down');
      return verdict;
    },
    used: () => log.push('used'),
  };
}

describe('Session, its strategy', () => {
  it('strategyKind names the strategy of the session, none before a login and after a logout', async () => {
    const { session } = setup(() => 'ok');
    expect(session.strategyKind).toBeUndefined();
    await session.login(passwordLogin('u', 'p'));
    expect(session.strategyKind).toBe('password');
    await session.logout();
    expect(session.strategyKind).toBeUndefined();
  });

  it('a call that succeeded tells the strategy (a shared session renews its place); a failed one does not', async () => {
    const log: string[] = [];
    const { session, call } = setup((m) => (m === 'Fail' ? new VimFault('Fail', { _typeName: 'InvalidArgument' }, '') : 'ok'));
    await session.login(sharedStrategy('keep', log));
    await call('CurrentTime', {}, {});
    await call('Fail', {}, {}).catch(() => undefined);
    expect(log).toEqual(['used']);
  });

  it("logout: a shared session the strategy keeps is let go of without a Logout; one it gives up (or can't tell) is logged out", async () => {
    for (const [verdict, logouts] of [['keep', 0], ['logout', 1], ['fails', 1]] as const) {
      const log: string[] = [];
      const { session, calls, events } = setup(() => 'ok');
      await session.login(sharedStrategy(verdict, log));
      await session.logout();
      expect(log).toEqual(['release logout']);
      expect(calls.filter((c) => c === 'Logout')).toHaveLength(logouts);
      expect(session.sessionId).toBeUndefined();
      expect(events).toEqual(['login', 'logout']);
    }
  });

  it('a second login releases the first session in close mode', async () => {
    const log: string[] = [];
    const { session, calls } = setup(() => 'ok');
    await session.login(sharedStrategy('keep', log));
    await session.login(passwordLogin('u', 'p'));
    expect(log).toEqual(['release close']);
    expect(calls).toEqual(['Login', 'Login']);
    expect(session.sessionId).toBe('s2');
  });

  it('logout without a session sends nothing and emits nothing', async () => {
    const { session, calls, events } = setup(() => 'ok');
    await session.logout();
    expect(calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('a Logout the server refuses (the session already gone) still lets go of the session', async () => {
    const { session, calls, events } = setup((m) => (m === 'Logout' ? notAuthenticated() : 'ok'));
    await session.login(passwordLogin('u', 'p'));
    await session.logout();
    expect(calls).toEqual(['Login', 'Logout']);
    expect(session.sessionId).toBeUndefined();
    expect(session.userSession).toBeUndefined();
    expect(events).toEqual(['login', 'logout']);
  });

  it('a login whose answer set no session cookie is ENOSESSION and leaves the client as it was', async () => {
    const { session } = setup(() => 'ok');
    const noCookie: LoginStrategy = { kind: 'odd', replayable: true, login: async () => ({ userName: 'u' }) as UserSession };
    await expect(session.login(noCookie)).rejects.toMatchObject({ code: 'ENOSESSION', message: 'the odd login succeeded but the server set no session cookie' });
    expect(session.strategyKind).toBeUndefined();
    expect(session.sessionId).toBeUndefined();
  });

  it('a closed session refuses logins and calls with ECLOSED', async () => {
    const { session, call, calls } = setup(() => 'ok');
    session.close();
    await expect(session.login(passwordLogin('u', 'p'))).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(call('CurrentTime', {}, {})).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(session.attach('abc')).rejects.toMatchObject({ code: 'ECLOSED' });
    expect(calls).toEqual([]);
  });
});

describe('Session, a session that cannot be made again', () => {
  it('without re-authentication: the fault passes through, and sessionLost is emitted once for that session', async () => {
    const { session, call, calls, events } = setup(() => notAuthenticated(), undefined, false);
    await session.login(passwordLogin('u', 'p'));
    for (let i = 0; i < 3; i++) expect(isVimFault(await call('CurrentTime', {}, {}).catch((e: unknown) => e), 'NotAuthenticated')).toBe(true);
    expect(calls).toEqual(['Login', 'CurrentTime', 'CurrentTime', 'CurrentTime']);
    expect(events).toEqual(['login', 'sessionLost']);
    expect(session.userSession).toBeUndefined();
    // A new login, then a new loss: emitted again.
    await session.login(passwordLogin('u', 'p'));
    await call('CurrentTime', {}, {}).catch(() => undefined);
    expect(events).toEqual(['login', 'sessionLost', 'logout', 'login', 'sessionLost']);
  });

  it('a strategy that cannot be replayed (a clone ticket) loses its session the same way', async () => {
    const log: string[] = [];
    const { session, call, calls, events } = setup(() => notAuthenticated());
    await session.login(sharedStrategy('logout', log, false));
    const err = await call('CurrentTime', {}, {}).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect((err as Error).message).not.toMatch(/log in first/);
    expect(calls).toEqual(['Login', 'CurrentTime']);
    expect(events).toEqual(['login', 'sessionLost']);
  });
});

describe('Session.attach', () => {
  const current = { _typeName: 'UserSession', key: 'k', userName: 'attached-user' };
  const answer = (m: string) => (m === 'RetrievePropertiesEx' ? { objects: [{ obj: SM, propSet: [{ name: 'currentSession', val: current }] }] } : 'ok');

  it('adopts a session id the server knows: cookie, user session, login event; not replayable', async () => {
    const { session, call, cookies, events } = setup(answer);
    expect(await session.attach('abc-123')).toEqual(current);
    expect(session.sessionId).toBe('abc-123');
    expect(session.userSession).toEqual(current);
    expect(session.strategyKind).toBe('attached');
    expect(events).toEqual(['login']);
    // The check went with the id to adopt, on a jar of its own.
    expect(cookies[0]).toBe('"abc-123"');
    await call('CurrentTime', {}, {});
    expect(cookies[1]).toBe('"abc-123"');
  });

  it('an id the server does not know is NotAuthenticated, and the current session stays', async () => {
    const { session, events } = setup((m, g) => (m === 'RetrievePropertiesEx' ? { objects: [] } : g));
    await session.login(passwordLogin('u', 'p'));
    const err = await session.attach('unknown').catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect((err as Error).message).toBe('attachSession: NotAuthenticated: the session id is not (or no longer) valid on this server');
    expect(session.sessionId).toBe('s1');
    expect(events).toEqual(['login']);
  });

  it('refuses an id that could not travel in a cookie, before anything is sent', async () => {
    const { session, calls } = setup(answer);
    for (const bad of ['', 'a b', 'a"b', 'a;b', 'a,b', 'a\\b', 'é', 42]) {
      await expect(session.attach(bad as string)).rejects.toThrow(TypeError);
    }
    expect(calls).toEqual([]);
    expect(await session.attach('!~')).toEqual(current);
  });
});

