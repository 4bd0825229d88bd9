// The main entry point never loads ioredis (an optional peer dependency of vim25-soap/redis only).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

it('importing vim25-soap does not load ioredis; vim25-soap/redis does', () => {
  const probe = (entry: string): string[] => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(entry)});
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/ioredis/'))));
  `], { cwd: ROOT, encoding: 'utf8' })) as string[];
  expect(probe('./src/index.ts')).toEqual([]);
  expect(probe('./src/redis.ts').length).toBeGreaterThan(0);
});
