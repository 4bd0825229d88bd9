// The pieces the stores are made of: the memory store's locks and reference counts at their
// boundaries, the codec's key forms and refusals, SessionStoreError and withTimeout, and the
// per-process memo of derived store keys.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionCodec } from '../../../src/fleet/codec.ts';
import { sessionKey } from '../../../src/fleet/key.ts';
import { MemorySessionStore } from '../../../src/fleet/memory.ts';
import { isUnreadable, SessionStoreError, withTimeout } from '../../../src/fleet/store.ts';

afterEach(() => void vi.useRealTimers());
const ID = '52b4c2f1-0e3a-7d11-aa90-3f1e2d4c5b6a';

describe('MemorySessionStore', () => {
  it('keeps the timing it was given, and shows how many sessions it holds', async () => {
    const s = new MemorySessionStore({ lockTtlMs: 5, pollIntervalMs: 6 });
    expect(s.timing).toEqual({ lockTtlMs: 5, pollIntervalMs: 6 });
    expect(new MemorySessionStore().timing).toEqual({});
    await s.compareAndSet('a', undefined, ID);
    await s.compareAndSet('b', undefined, ID);
    expect(s.toJSON()).toEqual({ store: 'memory', sessions: 2 });
    expect(JSON.stringify(s)).toBe('{"store":"memory","sessions":2}');
    expect(inspect(s)).toBe('MemorySessionStore { sessions: 2 }');
  });

  it('a lock is held until its TTL has passed, with a larger token each time, extended only by its holder, and fences out writes after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = new MemorySessionStore();
    const start = Date.now();
    const a = (await s.lock('k', 1_000))!;
    vi.setSystemTime(start + 999);
    expect(await s.lock('k', 1_000)).toBeUndefined();
    expect(await a.extend!(1_000)).toBe(true); // now held until start + 1999
    vi.setSystemTime(start + 1_998);
    expect(await s.compareAndSet('k', undefined, 'x', a)).toBe(true);
    vi.setSystemTime(start + 1_999);
    expect(await s.compareAndSet('k', 'x', 'y', a)).toBe(false); // at its expiry: no longer held
    expect(await a.extend!(1_000)).toBe(false);
    const b = (await s.lock('k', 1_000))!;
    expect(Number(b.token)).toBeGreaterThan(Number(a.token));
    await b.release();
    expect(await s.compareAndSet('k', 'x', 'y', b)).toBe(false); // released: no lock to write under
    await a.release(); // not held: nothing to do
    const c = (await s.lock('k', 1_000))!;
    expect(Number(c.token)).toBe(Number(b.token) + 1);
    expect(await s.compareAndSet('k', 'x', 'y', c)).toBe(true);
  });

  it('counts the clients of a session per key and id: the last release says so', () => {
    const s = new MemorySessionStore();
    expect(s.release('k', 'a')).toBe(true); // never retained: nobody else holds it
    s.retain('k', 'a');
    s.retain('k', 'a');
    s.retain('k', 'b');
    s.retain('j', 'a');
    expect(s.release('k', 'a')).toBe(false);
    expect(s.release('k', 'a')).toBe(true);
    expect(s.release('k', 'b')).toBe(true);
    expect(s.release('j', 'a')).toBe(true);
    s.retain('k', 'a');
    expect(s.release('k', 'a')).toBe(true); // counted from zero again
  });
});

describe('SessionCodec', () => {
  const hex = 'ab'.repeat(32);
  const base64 = Buffer.from(hex, 'hex').toString('base64');

  it('takes a key as 32 bytes, 64 hex digits or base64, the same key either way', () => {
    const forms = [new SessionCodec(Buffer.from(hex, 'hex')), new SessionCodec(new Uint8Array(Buffer.from(hex, 'hex'))), new SessionCodec(hex), new SessionCodec(hex.toUpperCase()), new SessionCodec(base64)];
    const sealed = forms[0]!.encode('k', ID);
    for (const c of forms) {
      expect(c.encrypted).toBe(true);
      expect(c.fingerprint(ID)).toBe(forms[0]!.fingerprint(ID));
      expect(c.decode('k', sealed)).toBe(ID);
    }
    expect(new SessionCodec(undefined).encrypted).toBe(false);
  });

  it('refuses a key that is not 32 bytes, hex digits with anything around them included', () => {
    for (const key of [Buffer.alloc(31), Buffer.alloc(33), `${hex}A`, `A${hex}`, `${hex}ab`, 'ab'.repeat(16), '']) {
      expect(() => new SessionCodec(key), String(key)).toThrow(new TypeError('encryptionKey must be 32 bytes (a Uint8Array, 64 hex digits or base64)'));
    }
  });

  it('writes <fingerprint>.<id> with a 22-character fingerprint, keyed when encrypting', () => {
    const plain = new SessionCodec(undefined);
    const fp = plain.fingerprint(ID);
    expect(fp).toMatch(/^[\w-]{22}$/);
    expect(plain.encode('k', ID)).toBe(`${fp}.${ID}`);
    expect(SessionCodec.fingerprintOf(`${fp}.${ID}`)).toBe(fp);
    expect(SessionCodec.fingerprintOf('no dot')).toBe('');
    const sealed = new SessionCodec(hex);
    expect(sealed.fingerprint(ID)).not.toBe(fp);
    expect(sealed.encode('k', ID)).toMatch(new RegExp(`^${sealed.fingerprint(ID)}\\.g1~[\\w-]+$`));
  });

  it('reads back any id, and refuses what it did not write, each with its reason', () => {
    const plain = new SessionCodec(undefined);
    const sealed = new SessionCodec(hex);
    for (const id of [ID, 'sëssion-ïd ☃', 'a.b.c']) {
      expect(plain.decode('k', plain.encode('k', id))).toBe(id);
      expect(sealed.decode('k', sealed.encode('k', id))).toBe(id);
    }
    const refusals: Array<[SessionCodec, string, string]> = [
      [plain, 'no dot at all', 'session store: a stored value is not in the expected format'],
      [plain, `.${ID}`, 'session store: a stored value does not match its fingerprint'],
      [plain, `${plain.fingerprint('other')}.${ID}`, 'session store: a stored value does not match its fingerprint'],
      [sealed, plain.encode('k', ID), 'session store: a stored value is not encrypted (wrong store or no encryptionKey where it was written with one)'],
      [sealed, `${sealed.fingerprint(ID)}.g1~${'A'.repeat(60)}`, 'session store: a stored value does not decrypt with this encryptionKey'],
      [sealed, sealed.encode('other key', ID), 'session store: a stored value does not decrypt with this encryptionKey'],
      [new SessionCodec(base64.replace(/^q/, 'r')), sealed.encode('k', ID), 'session store: a stored value does not decrypt with this encryptionKey'],
    ];
    for (const [codec, raw, message] of refusals) {
      const err = (() => {
        try {
          codec.decode('k', raw);
        } catch (e) {
          return e as SessionStoreError;
        }
        throw new Error(`decoded ${raw}`);
      })();
      expect(err, raw).toBeInstanceOf(SessionStoreError);
      expect(err.reason, raw).toBe('corrupt');
      expect(err.message, raw).toBe(message);
    }
  });
});

describe('SessionStoreError, isUnreadable and withTimeout', () => {
  it('an error names itself and its reason, and carries a cause or an unreadable value only when given one', () => {
    const bare = new SessionStoreError('timeout', 'm');
    expect([bare.name, bare.reason, bare.message, bare.unreadable, 'cause' in bare]).toEqual(['SessionStoreError', 'timeout', 'm', undefined, false]);
    const cause = new Error('below');
    const full = new SessionStoreError('corrupt', 'n', { cause, unreadable: 'tok' });
    expect([full.cause, full.unreadable]).toEqual([cause, { unreadable: 'tok' }]);
    expect(String(full)).toBe('SessionStoreError: n');
  });

  it('isUnreadable takes an object with a string token only', () => {
    expect([{ unreadable: 'x' }, { unreadable: '' }].map((v) => isUnreadable(v))).toEqual([true, true]);
    expect([undefined, 'x', null, { unreadable: 5 }, {}].map((v) => isUnreadable(v as never))).toEqual([false, false, false, false, false]);
  });

  it('withTimeout rejects with a timeout after `ms`, and leaves no timer behind once the call settles', async () => {
    vi.useFakeTimers();
    const never = new Promise<never>(() => undefined);
    const late = withTimeout(never, 2_000, 'get').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const err = (await late) as SessionStoreError;
    expect([err.name, err.reason, err.message]).toEqual(['SessionStoreError', 'timeout', 'session store: get did not answer within 2000 ms']);
    expect(await withTimeout(Promise.resolve(7), 2_000, 'x')).toBe(7);
    await expect(withTimeout(Promise.reject(new Error('no')), 2_000, 'x')).rejects.toThrow('no');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('sessionKey memo', () => {
  it('keeps the keys of the 4 identities used last: using one again keeps it longer', async () => {
    const url = 'https://vc-memo.example.com/sdk';
    const ids = ['a', 'b', 'c', 'd', 'e'].map((u) => `${u}@vsphere.local`);
    const a = sessionKey(url, ids[0]!, 'p');
    const b = sessionKey(url, ids[1]!, 'p');
    sessionKey(url, ids[2]!, 'p');
    sessionKey(url, ids[3]!, 'p');
    expect(sessionKey(url, ids[0]!, 'p')).toBe(a); // used again: now the latest
    sessionKey(url, ids[4]!, 'p'); // a fifth: the one used longest ago (b) goes
    expect(sessionKey(url, ids[0]!, 'p')).toBe(a);
    const b2 = sessionKey(url, ids[1]!, 'p');
    expect(b2).not.toBe(b);
    expect(await b2).toBe(await b);
  });

  it('forgets a derivation that failed, so the next call tries again', async () => {
    const url = 'https://vc-fail.example.com/sdk';
    const failed = sessionKey(url, 'x@vsphere.local', 42 as never);
    await expect(failed).rejects.toThrow(TypeError);
    expect(sessionKey(url, 'x@vsphere.local', 42 as never)).not.toBe(failed);
    await sessionKey(url, 'x@vsphere.local', 42 as never).catch(() => undefined);
  });
});
