// RedisSessionStore (the `vim25-soap/redis` subpath; ioredis is an optional peer dependency that
// the main entry point never loads): the fleet's session in Redis.
//   <prefix>s:{<key>}  the session id (fingerprint, then the id or its AES-256-GCM seal), with a
//                    TTL renewed with use; keep it no longer than vCenter's idle timeout (30 min
//                    by default), after which vCenter has forgotten an unused session anyway
//   <prefix>l:{<key>}  the login lock: SET NX PX with a fencing token, renewed by its holder while
//                    its login runs, released after (only by its holder), lapsing by itself
//                    when the holder dies
//   <prefix>f:{<key>}  the fencing counter (INCR)
// Every command is one Lua script, so what it checks and what it writes are one step. What the
// keys hold is untrusted (anything that can write to Redis can put anything there): a value of
// another type, an oversized one or one without a TTL is unreadable, gets a TTL when read, and
// is replaced by the next login; a lock key without a TTL or of another type is cleared.
//
// The connection is opened when the store is first used and closed when the last client that
// uses it closes (or on close()), so it never keeps a process alive by itself. Commands are never
// queued while Redis is unreachable: once a connection failed (or the first one did not come up
// within timeoutMs), every call fails at once until ioredis, reconnecting in the background, is
// ready again; the client goes on with a session of its own meanwhile and rejoins after.
import { inspect } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '../logger.ts';
import { SessionCodec, type EncryptionKey } from './codec.ts';
import { DEFAULT_TIMING, isUnreadable, SessionStoreError, type SessionStore, type StoreLock, type StoreTiming, type Unreadable } from './store.ts';

export interface RedisSessionStoreOptions extends Partial<StoreTiming> {
  /** redis:// or rediss:// URL (its password is never logged or shown). Default redis://127.0.0.1:6379. */
  url?: string;
  /** Further ioredis options (TLS, sentinels, ...). */
  redis?: RedisOptions;
  /** Default 'vim25-soap:'. */
  prefix?: string;
  /** Lifetime of a stored session since its last use. Default 1800 (vCenter's default idle timeout). */
  ttlSeconds?: number | undefined;
  /** Encrypt stored ids with AES-256-GCM under this 32-byte key. */
  encryptionKey?: EncryptionKey | undefined;
  logger?: Logger;
}

const MAX_VALUE_BYTES = 64 * 1024;

/** What names a value for a compare-and-set against an unreadable one: empty for none. */
const TOKEN = `
local function token(k)
  local t = redis.call('TYPE', k).ok
  if t == 'none' then return '' end
  if t ~= 'string' then return 'type:' .. t end
  local n = redis.call('STRLEN', k)
  if n > ${MAX_VALUE_BYTES} then return 'long:' .. n end
  return redis.sha1hex(redis.call('GET', k))
end
local function holds(k, fp)
  return redis.call('TYPE', k).ok == 'string' and redis.call('GETRANGE', k, 0, string.len(fp)) == fp .. '.'
end`;

/** KEYS: session. ARGV: TTL (ms) for a value found without one. Returns nil, or { value or '', token }. */
const GET = `${TOKEN}
local tok = token(KEYS[1])
if tok == '' then return false end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if string.sub(tok, 1, 5) == 'type:' or string.sub(tok, 1, 5) == 'long:' then return { '', tok } end
return { redis.call('GET', KEYS[1]), tok }`;

/** KEYS: session, lock. ARGV: 'none' | 'fp' | 'token', expected, value, TTL (ms), lock token or ''. */
const CAS = `${TOKEN}
if ARGV[5] ~= '' and (redis.call('TYPE', KEYS[2]).ok ~= 'string' or redis.call('GET', KEYS[2]) ~= ARGV[5]) then return 0 end
if ARGV[1] == 'none' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
elseif ARGV[1] == 'fp' then
  if not holds(KEYS[1], ARGV[2]) then return 0 end
elseif token(KEYS[1]) ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1`;

/** KEYS: session. ARGV: fingerprint. */
const CAD = `${TOKEN}
if not holds(KEYS[1], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** KEYS: session. ARGV: fingerprint, TTL (ms). */
const TOUCH = `${TOKEN}
if not holds(KEYS[1], ARGV[1]) then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

/** KEYS: lock, fence. ARGV: TTL (ms). Returns the fencing token, or nil while another holds the lock. */
const LOCK = `
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and (t ~= 'string' or redis.call('PTTL', KEYS[1]) == -1) then redis.call('DEL', KEYS[1]) end
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local ok, fence = pcall(redis.call, 'INCR', KEYS[2])
if not ok then
  redis.call('DEL', KEYS[2])
  fence = redis.call('INCR', KEYS[2])
end
redis.call('SET', KEYS[1], fence, 'PX', ARGV[1])
return tostring(fence)`;

/** KEYS: lock. ARGV: token, TTL (ms) to renew with or '' to release. */
const UNLOCK_OR_EXTEND = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' or redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

export class RedisSessionStore implements SessionStore {
  readonly timing: Partial<StoreTiming>;
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly #url: string;
  readonly #options: RedisOptions;
  readonly #codec: SessionCodec;
  readonly #logger: Logger;
  #redis: Redis | undefined;
  #clients = 0;
  /** A connection failed, and none is ready since: calls fail at once. */
  #down = false;
  #probedAt = 0;

  constructor(options: RedisSessionStoreOptions = {}) {
    const { url, redis, prefix, ttlSeconds, encryptionKey, logger, ...timing } = options;
    this.timing = timing;
    this.prefix = prefix ?? 'vim25-soap:';
    this.ttlSeconds = ttlSeconds ?? 1800;
    if (!(this.ttlSeconds > 0)) throw new TypeError('ttlSeconds must be positive');
    this.#codec = new SessionCodec(encryptionKey);
    this.#logger = logger ?? silentLogger;
    this.#url = url ?? 'redis://127.0.0.1:6379';
    this.#options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => Math.min(50 * times, 1_000),
      ...redis,
    };
  }

  async get(key: string): Promise<string | undefined> {
    const found = await this.#run('get', (r) => r.eval(GET, 1, this.#k('s', key), this.#ttlMs())) as [string, string] | null;
    if (found === null) return undefined;
    const [raw, token] = found;
    try {
      if (raw === '') throw new SessionStoreError('corrupt', 'session store: the stored value is of another type or too large');
      return this.#codec.decode(key, raw);
    } catch (err) {
      throw new SessionStoreError('corrupt', (err as Error).message, { unreadable: token });
    }
  }

  async compareAndSet(key: string, expected: string | Unreadable | undefined, id: string, lock?: StoreLock): Promise<boolean> {
    const [mode, value] = expected === undefined ? ['none', ''] : isUnreadable(expected) ? ['token', expected.unreadable] : ['fp', this.#codec.fingerprint(expected)];
    const n = await this.#run('compareAndSet', (r) =>
      r.eval(CAS, 2, this.#k('s', key), this.#k('l', key), mode, value, this.#codec.encode(key, id), this.#ttlMs(), lock?.token ?? ''));
    return n === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return (await this.#run('compareAndDelete', (r) => r.eval(CAD, 1, this.#k('s', key), this.#codec.fingerprint(expected)))) === 1;
  }

  async lock(key: string, ttlMs: number): Promise<StoreLock | undefined> {
    const lockKey = this.#k('l', key);
    const token = await this.#run('lock', (r) => r.eval(LOCK, 2, lockKey, this.#k('f', key), String(ttlMs))) as string | null;
    if (token === null) return undefined;
    return {
      token,
      release: async () => {
        await this.#run('unlock', (r) => r.eval(UNLOCK_OR_EXTEND, 1, lockKey, token, ''));
      },
      extend: async (ms) => (await this.#run('extend', (r) => r.eval(UNLOCK_OR_EXTEND, 1, lockKey, token, String(ms)))) === 1,
    };
  }

  async touch(key: string, id: string): Promise<boolean> {
    return (await this.#run('touch', (r) => r.eval(TOUCH, 1, this.#k('s', key), this.#codec.fingerprint(id), this.#ttlMs()))) === 1;
  }

  attach(): void {
    this.#clients++;
  }

  /** The last client closed: so does the connection (a later call opens a new one). */
  async detach(): Promise<void> {
    this.#clients = Math.max(0, this.#clients - 1);
    if (this.#clients === 0) await this.close();
  }

  /**
   * Closes the Redis connection now (the sessions stay in Redis for the rest of the fleet). Not
   * needed after the store's clients are closed, which closes it too; a later call opens a new one.
   */
  async close(): Promise<void> {
    const r = this.#redis;
    this.#redis = undefined;
    if (!r || r.status === 'end') return;
    // Resolved once the socket is closed, not when QUIT is answered (the server closes it a moment
    // later): nothing of the store is left to keep the process alive. A connection between
    // attempts may have no socket to close: bounded, then.
    const ended = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      timer.unref();
      r.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (r.status === 'ready') await r.quit().catch(() => r.disconnect());
    else r.disconnect();
    await ended;
  }

  #ttlMs(): string {
    return String(this.ttlSeconds * 1000);
  }

  /** The key in braces is a Redis Cluster hash tag: a login's session, lock and counter share a slot, as its Lua scripts need. */
  #k(kind: 's' | 'l' | 'f', key: string): string {
    return `${this.prefix}${kind}:{${key}}`;
  }

  #connection(): Redis {
    if (this.#redis) return this.#redis;
    // ioredis 6 types its constructor's options as RedisOptions & { replyMapping?: ReplyMapping },
    // which RedisOptions' own `replyMapping?: ... | undefined` cannot satisfy under
    // exactOptionalPropertyTypes: the cast only bridges that.
    const r = new Redis(this.#url, this.#options as never);
    r.on('ready', () => {
      if (this.#redis !== r) return;
      if (this.#down) this.#logger.info('session store: Redis is reachable again');
      this.#down = false;
    });
    r.on('error', (err: Error) => {
      if (this.#redis !== r) return;
      this.#markDown(errorCode(err));
    });
    this.#redis = r;
    return r;
  }

  #markDown(why: string): void {
    if (!this.#down) this.#logger.warn('session store: Redis unreachable', { error: why });
    this.#down = true;
  }

  /** A connection that is not ready: waited for (within timeoutMs) only while Redis is not known to be down. */
  async #ready(r: Redis): Promise<void> {
    if (r.status === 'ready') return;
    const timeoutMs = this.timing.timeoutMs ?? DEFAULT_TIMING.timeoutMs;
    if (this.#down) {
      // A connection that came up but never got ready (a server that accepts and stays silent)
      // is not retried by ioredis: this caller starts a new attempt, at most once per timeout.
      if ((r.status === 'connect' || r.status === 'connecting') && Date.now() - this.#probedAt > timeoutMs) {
        this.#probedAt = Date.now();
        r.disconnect(true);
      }
      throw new KnownDown();
    }
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        r.off('ready', onReady);
        r.off('error', onError);
        r.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const onReady = (): void => done();
      const onError = (err: Error): void => done(err);
      const onEnd = (): void => done(new Error('connection closed'));
      const timer = setTimeout(() => {
        this.#markDown('ETIMEDOUT');
        this.#probedAt = Date.now();
        done(Object.assign(new Error('not ready in time'), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      timer.unref();
      r.once('ready', onReady);
      r.once('error', onError);
      r.once('end', onEnd);
    });
  }

  async #run<T>(what: string, command: (r: Redis) => Promise<T>): Promise<T> {
    const r = this.#connection();
    try {
      await this.#ready(r);
      return await command(r);
    } catch (err) {
      if (r.status !== 'ready' && this.#redis === r) this.#markDown(errorCode(err));
      const why = err instanceof KnownDown ? 'down, reconnecting in the background' : errorCode(err);
      // Not the error itself as the cause: ioredis puts the command's arguments (a session id) on it.
      throw new SessionStoreError('unavailable', `session store: Redis ${what} failed (${why})`, { cause: redacted(err) });
    }
  }

  toJSON(): { store: string; prefix: string; ttlSeconds: number; encrypted: boolean } {
    return { store: 'redis', prefix: this.prefix, ttlSeconds: this.ttlSeconds, encrypted: this.#codec.encrypted };
  }

  [inspect.custom](): string {
    return `RedisSessionStore { prefix: '${this.prefix}', ttlSeconds: ${this.ttlSeconds}, encrypted: ${this.#codec.encrypted} }`;
  }
}

/** A call refused at once while Redis is known to be down. */
class KnownDown extends Error {}

function errorCode(err: unknown): string {
  return (err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error');
}

/** An error's name, message and code only (Redis error messages carry no argument values). */
function redacted(err: unknown): Error {
  if (!(err instanceof Error)) return new Error('error');
  const copy = new Error(err.message);
  copy.name = err.name;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
