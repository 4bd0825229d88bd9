// node-soap (with axios and the rest of its tree) is loaded by the vim25-soap/node-soap subpath
// only: a process that imports the main entry never loads it, and installing the package does
// not pull it in (an optional peer dependency).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/paths.ts';
import { loadedPackages } from '../harness/loaded-packages.ts';

describe('the main entry point stays lean', () => {
  it('never loads node-soap or axios; the node-soap subpath does', async () => {
    const [main, subpath] = await Promise.all([loadedPackages('vim25-soap'), loadedPackages('vim25-soap/node-soap')]);
    expect(main).not.toContain('soap');
    expect(main).not.toContain('axios');
    // The same check sees node-soap when it is loaded.
    expect(subpath).toContain('soap');
    expect(subpath).toContain('axios');
  });

  it('exports the subpath and declares node-soap an optional peer, not a dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(pkg.exports!['./node-soap']).toEqual({
      import: { types: './dist/node-soap/index.d.ts', default: './dist/node-soap/index.js' },
      require: { types: './dist/node-soap/index.d.cts', default: './dist/node-soap/index.js' },
    });
    expect(pkg.dependencies).not.toHaveProperty('soap');
    expect(pkg.peerDependencies).toHaveProperty('soap');
    expect(pkg.peerDependenciesMeta!.soap).toEqual({ optional: true });
  });
});
