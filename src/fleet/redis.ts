// RedisSessionStore (the `vim25-soap/redis` subpath; ioredis is an optional peer dependency that
// the main entry point never loads): the fleet's session in Redis.
//   <prefix>s:{<key>}  the session id (fingerprint, then the id or its AES-256-GCM seal), with a
//                    TTL renewed with use; keep it no longer than vCenter's idle timeout (30 min
//                    by default), after which vCenter has forgotten an unused session anyway
//   <prefix>l:{<key>}  the login lock: SET NX PX with a fencing token, released on success (only
//                    by its holder), expiring by itself when the holder dies
//   <prefix>f:{<key>}  the fencing counter (INCR)
// Writes under a lock are Lua scripts that check the lock still holds the writer's token.
// Commands are never queued while Redis is unreachable: they fail at once, the client goes on
// with a session of its own, and ioredis reconnects in the background so the fleet rejoins.
import { inspect } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { silentLogger, type Logger } from '../logger.ts';
import { SessionCodec, type EncryptionKey } from './codec.ts';
import { SessionStoreError, type SessionStore, type StoreLock, type StoreTiming } from './store.ts';

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

const CAS = `
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return 0 end
elseif (not cur) or string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '.' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

const CAD = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '.' then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

const TOUCH = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '.' then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisSessionStore implements SessionStore {
  readonly timing: Partial<StoreTiming>;
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly #redis: Redis;
  readonly #codec: SessionCodec;
  readonly #logger: Logger;
  #everReady = false;
  #down = false;

  constructor(options: RedisSessionStoreOptions = {}) {
    const { url, redis, prefix, ttlSeconds, encryptionKey, logger, ...timing } = options;
    this.timing = timing;
    this.prefix = prefix ?? 'vim25-soap:';
    this.ttlSeconds = ttlSeconds ?? 1800;
    if (!(this.ttlSeconds > 0)) throw new TypeError('ttlSeconds must be positive');
    this.#codec = new SessionCodec(encryptionKey);
    this.#logger = logger ?? silentLogger;
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => Math.min(50 * times, 1_000),
      ...redis,
    };
    // ioredis 6 types its constructor's options as RedisOptions & { replyMapping?: ReplyMapping },
    // which RedisOptions' own `replyMapping?: ... | undefined` cannot satisfy under
    // exactOptionalPropertyTypes: the cast only bridges that.
    this.#redis = new Redis(url ?? 'redis://127.0.0.1:6379', redisOptions as never);
    this.#redis.on('ready', () => {
      this.#everReady = true;
      if (this.#down) this.#logger.info('session store: Redis is reachable again');
      this.#down = false;
    });
    this.#redis.on('error', (err: Error) => {
      if (!this.#down) this.#logger.warn('session store: Redis unreachable', { error: (err as { code?: string }).code ?? err.name });
      this.#down = true;
    });
  }

  async get(key: string): Promise<string | undefined> {
    const raw = await this.#run('get', (r) => r.get(this.#k('s', key)));
    return raw === null ? undefined : this.#codec.decode(key, raw);
  }

  async compareAndSet(key: string, expected: string | undefined, id: string, lock?: StoreLock): Promise<boolean> {
    const expectedFp = expected === undefined ? '' : this.#codec.fingerprint(expected);
    const n = await this.#run('compareAndSet', (r) =>
      r.eval(CAS, 2, this.#k('s', key), this.#k('l', key), expectedFp, this.#codec.encode(key, id), String(this.ttlSeconds * 1000), lock?.token ?? ''));
    return n === 1;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return (await this.#run('compareAndDelete', (r) => r.eval(CAD, 1, this.#k('s', key), this.#codec.fingerprint(expected)))) === 1;
  }

  async lock(key: string, ttlMs: number): Promise<StoreLock | undefined> {
    const lockKey = this.#k('l', key);
    const token = String(await this.#run('lock', (r) => r.incr(this.#k('f', key))));
    const ok = await this.#run('lock', (r) => r.set(lockKey, token, 'PX', ttlMs, 'NX'));
    if (ok !== 'OK') return undefined;
    return {
      token,
      release: async () => {
        await this.#run('unlock', (r) => r.eval(UNLOCK, 1, lockKey, token));
      },
    };
  }

  async touch(key: string, id: string): Promise<void> {
    await this.#run('touch', (r) => r.eval(TOUCH, 1, this.#k('s', key), this.#codec.fingerprint(id), String(this.ttlSeconds * 1000)));
  }

  /** Closes the Redis connection (the sessions stay in Redis for the rest of the fleet). */
  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  /** The key in braces is a Redis Cluster hash tag: a login's session, lock and counter share a slot, as its Lua scripts need. */
  #k(kind: 's' | 'l' | 'f', key: string): string {
    return `${this.prefix}${kind}:{${key}}`;
  }

  /** Waits for the first connection; afterwards a lost connection fails at once (no queueing). */
  async #run<T>(what: string, command: (r: Redis) => Promise<T>): Promise<T> {
    try {
      if (!this.#everReady && this.#redis.status !== 'ready') {
        await new Promise<void>((resolve, reject) => {
          const onReady = (): void => {
            this.#redis.off('end', onEnd);
            resolve();
          };
          const onEnd = (): void => {
            this.#redis.off('ready', onReady);
            reject(new Error('connection closed'));
          };
          this.#redis.once('ready', onReady);
          this.#redis.once('end', onEnd);
        });
      }
      return await command(this.#redis);
    } catch (err) {
      throw new SessionStoreError('unavailable', `session store: Redis ${what} failed (${(err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error')})`, { cause: err });
    }
  }

  toJSON(): { store: string; prefix: string; ttlSeconds: number; encrypted: boolean } {
    return { store: 'redis', prefix: this.prefix, ttlSeconds: this.ttlSeconds, encrypted: this.#codec.encrypted };
  }

  [inspect.custom](): string {
    return `RedisSessionStore { prefix: '${this.prefix}', ttlSeconds: ${this.ttlSeconds}, encrypted: ${this.#codec.encrypted} }`;
  }
}
