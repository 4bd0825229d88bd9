// The main entry point never loads ioredis (an optional peer dependency of vim25-soap/redis only).
import { expect, it } from 'vitest';
import { loadedPackages } from '../../harness/loaded-packages.ts';

it('importing vim25-soap does not load ioredis; vim25-soap/redis does', async () => {
  const [main, redis] = await Promise.all([loadedPackages('vim25-soap'), loadedPackages('vim25-soap/redis')]);
  expect(main).not.toContain('ioredis');
  expect(redis).toContain('ioredis');
});
