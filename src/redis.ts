// The `vim25-soap/redis` subpath: the Redis session store (ioredis, an optional peer dependency).
export { RedisSessionStore, type RedisSessionStoreOptions } from './fleet/redis.ts';
