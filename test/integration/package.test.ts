// The package as `npm run build` makes it: the entry points bundled by esbuild (scripts/lib/esbuild-package.ts),
// loaded by name ('vim25-soap', resolved through package.json's exports, as users resolve it)
// on plain node, with import and with require, against the shared harness. The rest of the
// suite imports the same bundle through vitest's alias (test/harness/package.ts); this file
// checks what only a process of its own shows: the name's resolution, require, the packages loaded.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { declarationProblems } from '../../scripts/lib/declarations.ts';
import { tempDir } from '../fixtures.ts';
import { emitDeclarations } from '../harness/declarations.ts';
import { testPackage } from '../harness/package.ts';

const harness = inject('harness');
// The run's copy of the package (its package.json, for the self-reference, and dist/); packages
// resolve from the project's node_modules above it, as they would from an installed copy.
const pkg = testPackage();

/** Runs `source` as `file` in the package's directory on plain node; resolves with its last stdout line as JSON. */
function run(file: string, source: string): Promise<Record<string, unknown>> {
  writeFileSync(join(pkg, file), source);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', HARNESS: JSON.stringify(harness) };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file], { cwd: pkg, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file}: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

// The session a user's short job has: connect (CA-verified), login, one call, a refused login
// caught as a typed fault, logout. Then which packages the process loaded.
const SCENARIO = `
  const h = JSON.parse(process.env.HARNESS);
  const client = await VimClient.connect(h.url, { tls: { ca: readFileSync(h.certFile) } });
  await client.login({ username: h.username, password: h.password });
  const now = await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance'));
  let refused = false;
  try { await client.login({ username: h.username, password: 'wrong' }); } catch (err) { refused = isVimFault(err, 'InvalidLogin'); }
  await client.logout();
  await client.close();
  const packages = [...new Set(Object.keys(require.cache).map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1]).filter(Boolean))].sort();
  console.log(JSON.stringify({ isDate: now instanceof Date, about: client.about._typeName, refused, packages }));
`;

describe('the bundled package, loaded by name', () => {
  it.each([
    ['import', 'esm.mjs', `import { readFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      import { VimClient, isVimFault } from 'vim25-soap';
      const require = createRequire(import.meta.url);
      ${SCENARIO}`],
    ['require', 'cjs.cjs', `const { readFileSync } = require('node:fs');
      const { VimClient, isVimFault } = require('vim25-soap');
      (async () => { ${SCENARIO} })().catch((err) => { console.error(err); process.exitCode = 1; });`],
  ])('connects, logs in, calls and logs out through %s', async (_how, file, source) => {
    const r = await run(file, source);
    expect(r).toMatchObject({ isDate: true, about: 'AboutInfo', refused: true });
    // tough-cookie through require (its CommonJS build, with tldts's), never the optional peers;
    // a short job's few requests, one at a time, go through Node's own HTTP stack: undici is never loaded.
    expect(r.packages).toEqual(expect.arrayContaining(['tough-cookie', 'tldts']));
    expect(r.packages).not.toContain('undici');
    expect(r.packages).not.toContain('ioredis');
    expect(r.packages).not.toContain('soap');
  });

  it('loads ioredis and node-soap in their subpaths only, which share the main entry\'s classes', async () => {
    const r = await run('subpaths.mjs', `
      import { createRequire } from 'node:module';
      import { SessionStoreError } from 'vim25-soap';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache);
      const before = loaded().filter((p) => /node_modules\\/(ioredis|soap)\\//.test(p)).length;
      const { RedisSessionStore } = await import('vim25-soap/redis');
      const { createSoapClient } = await import('vim25-soap/node-soap');
      // Nothing listens on port 1, and no retry: the first command fails at once, with the
      // error class vim25-soap exports (one copy of the module behind both entry points).
      const store = new RedisSessionStore({ url: 'redis://127.0.0.1:1', redis: { retryStrategy: () => null } });
      const err = await store.get('k').then(() => undefined, (e) => e);
      await store.close();
      console.log(JSON.stringify({
        before,
        ioredis: loaded().some((p) => p.includes('/node_modules/ioredis/')),
        soap: loaded().some((p) => p.includes('/node_modules/soap/')),
        createSoapClient: typeof createSoapClient,
        sameClass: err instanceof SessionStoreError,
        reason: err?.reason,
      }));
    `);
    expect(r).toEqual({ before: 0, ioredis: true, soap: true, createSoapClient: 'function', sameClass: true, reason: 'unavailable' });
  });
});

describe('the client\'s wiring is the package\'s own', () => {
  it('no symbol of the process-wide registry leads into a client; the node-soap subpath, required beside an import of the main entry, finds the wiring all the same', async () => {
    const r = await run('wiring.mjs', `
      import { readFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      import { VimClient } from 'vim25-soap';
      const require = createRequire(import.meta.url);
      const h = JSON.parse(process.env.HARNESS);
      const client = await VimClient.connect(h.url, { tls: { ca: readFileSync(h.certFile) } });
      const registered = (o) => Object.getOwnPropertySymbols(o).filter((s) => Symbol.keyFor(s) !== undefined).map(String);
      const symbols = [...registered(client), ...registered(VimClient.prototype)];
      // Another entry point, another loader: one module-private map behind both.
      const { useSession } = require('vim25-soap/node-soap');
      // As much of a node-soap client as useSession needs: adopting it sets its endpoint to the VimClient's.
      const soapClient = { setEndpoint(url) { this.endpoint = url; }, setSOAPAction(action) { this.action = action; }, wsdl: {} };
      useSession(soapClient, client);
      let impostor;
      try { useSession({ ...soapClient }, { url: client.url, apiVersion: client.apiVersion }); } catch (err) { impostor = err.message; }
      await client.close();
      console.log(JSON.stringify({ symbols, adopted: soapClient.endpoint === client.url, action: soapClient.action, impostor }));
    `);
    // util.inspect's own key only (what a client shows of itself).
    expect(r).toEqual({ symbols: ['Symbol(nodejs.util.inspect.custom)'], adopted: true, action: expect.stringMatching(/^urn:vim25\/\d/), impostor: 'useSession needs a VimClient' });
  });

  it('the declarations name no internal: tsc as the build runs it, checked as the build checks it', async () => {
    const out = await emitDeclarations();
    expect(['index.d.ts', 'node-soap/index.d.ts', 'redis.d.ts'].filter((f) => !existsSync(join(out, f)))).toEqual([]);
    expect(declarationProblems(out)).toEqual([]);
    // The check sees a door when there is one.
    const door = tempDir('vim25-declarations-door-');
    writeFileSync(join(door, 'client.d.ts'), "import type { ClientInternals } from '../internals.js';\nexport declare const DOOR: unique symbol;\nexport declare function door(): ClientInternals;\n");
    expect(declarationProblems(door)).toEqual([
      'client.d.ts:1: imports the internals module',
      expect.stringMatching(/^client\.d\.ts:1: names an export of src\/internals\.ts/),
      'client.d.ts:2: exports a symbol',
      expect.stringMatching(/^client\.d\.ts:3: names an export of src\/internals\.ts/),
    ]);
  });
});
