// The command line keeps V8's compile cache between commands (Node >= 22.1), in its own directory
// beside the kept sessions; the library enables nothing of the kind when an application imports
// it (issue 34). Checked by what the processes leave on disk and report, not by timing.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/paths.ts';
import { packageBin, packageFiles } from '../harness/package.ts';

/** Node 20, 22 and 24 as scripts/setup.sh installs them (scripts/node-matrix.sh), whatever node runs the tests. */
function nodes(): { major: number; bin: string }[] {
  return [20, 22, 24].map((major) => {
    const bin = join(ROOT, `.cache/node/${major}/bin/node`);
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/setup.sh (npm test does)`);
    return { major, bin };
  });
}

const all = nodes();
// Node 22.1 brought module.enableCompileCache; the matrix's 22 is the latest 22.
const withCache = all.filter((n) => n.major >= 22);
const without = all.filter((n) => n.major < 22);

function run(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, args, { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const homes: string[] = [];
function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'vim25-cli-home-'));
  homes.push(h);
  return h;
}
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

const cacheOf = (h: string): string => join(h, '.cache', 'vim25-soap', 'compile-cache');

describe('the command line\'s compile cache', () => {
  it('is written under ~/.cache/vim25-soap on Node >= 22.1, and used by the next command', async () => {
    for (const { bin } of withCache) {
      const h = home();
      const first = await run(bin, [packageBin(), '--help'], { HOME: h, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('Usage: vim25-soap');
      expect(readdirSync(cacheOf(h), { recursive: true }).length).toBeGreaterThan(0);
      // The second command reads what the first wrote, for the package's own modules.
      const second = await run(bin, [packageBin(), '--help'], { HOME: h, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(/reading cache from .*compile-cache.* for ESM .*\/dist\/chunks\/main-/);
    }
  });

  it('is off with NODE_DISABLE_COMPILE_CACHE=1, and in NODE_COMPILE_CACHE\'s directory if that is set', async () => {
    for (const { bin } of withCache) {
      const h = home();
      expect((await run(bin, [packageBin(), '--help'], { HOME: h, NODE_DISABLE_COMPILE_CACHE: '1' })).code).toBe(0);
      expect(existsSync(cacheOf(h))).toBe(false);
      const elsewhere = join(h, 'elsewhere');
      expect((await run(bin, [packageBin(), '--help'], { HOME: h, NODE_COMPILE_CACHE: elsewhere })).code).toBe(0);
      expect(existsSync(cacheOf(h))).toBe(false);
      expect(readdirSync(elsewhere, { recursive: true }).length).toBeGreaterThan(0);
    }
  });

  it('is not asked of a Node without one (20), which runs the command as before', async () => {
    for (const { bin } of without) {
      const h = home();
      const r = await run(bin, [packageBin(), '--help'], { HOME: h });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: vim25-soap');
      expect(existsSync(cacheOf(h))).toBe(false);
    }
  });

  it('is not enabled by importing the library', async () => {
    for (const { bin } of withCache) {
      const script = `
        await import(${JSON.stringify(pathToFileURL(packageFiles()['vim25-soap']).href)});
        const m = process.getBuiltinModule('node:module');
        console.log(JSON.stringify({ dir: m.getCompileCacheDir() ?? null }));
      `;
      const r = await run(bin, ['--input-type=module', '-e', script], { HOME: home() });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual({ dir: null });
    }
  });
});
