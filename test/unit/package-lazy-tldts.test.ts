// The package's bundle defers tldts (tough-cookie's public-suffix list) to the first lookup that
// needs the list (scripts/lib/lazy-tldts.ts, issue 34). Each case is a fresh process on the run's
// bundled package, with a hook that records every CommonJS file Node compiles: what the process
// loaded, not how long it took.
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../scripts/lib/paths.ts';
import { packageFiles } from '../harness/package.ts';

interface ChildOut {
  compiled: string[];
  results: unknown;
}

/** The package (`true`) or tough-cookie alone runs `body` (an async function body given `client` or `jar`) in a fresh process. */
function inChild(withPackage: boolean, body: string): Promise<ChildOut> {
  const h = inject('harness');
  const script = `
    import { createRequire } from 'node:module';
    import { readFileSync } from 'node:fs';
    const require = createRequire(${JSON.stringify(`${ROOT}/package.json`)});
    const Module = require('node:module');
    const compiled = [];
    const compile = Module.prototype._compile;
    Module.prototype._compile = function (content, filename) {
      compiled.push(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(filename)?.[1] ?? filename);
      return compile.call(this, content, filename);
    };
    let client, jar;
    if (${withPackage}) {
      const { VimClient } = await import(${JSON.stringify(pathToFileURL(packageFiles()['vim25-soap']).href)});
      client = await VimClient.connect(${JSON.stringify(h.url)}, { tls: { ca: readFileSync(${JSON.stringify(h.certFile)}) } });
      await client.login({ username: ${JSON.stringify(h.username)}, password: ${JSON.stringify(h.password)} });
      await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance'));
      jar = client.cookieJar;
    } else {
      jar = new (require('tough-cookie').CookieJar)();
    }
    const results = await (async () => { ${body} })();
    await client?.close();
    console.log(JSON.stringify({ compiled, results }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildOut);
    });
  });
}

// What tough-cookie's jar answers where a public suffix matters: Domain attributes that are a
// public suffix (ICANN and private sections of the list), a registrable domain, a special-use
// domain, an IP address, and lookups that list a host's parent domains.
const CASES = `
  const set = async (cookie, url) => { try { await jar.setCookie(cookie, url); return 'stored'; } catch (e) { return 'refused: ' + e.message; } };
  return [
    await set('a=1; Domain=co.uk', 'https://www.example.co.uk/'),
    await set('b=2; Domain=github.io', 'https://me.github.io/'),
    await set('c=3; Domain=com', 'https://vc.example.com/'),
    await set('d=4; Domain=example.co.uk', 'https://www.example.co.uk/'),
    await set('e=5; Domain=vc.example.com', 'https://vc.example.com/'),
    await set('f=6; Domain=lab.local', 'https://vc.lab.local/'),
    await set('g=7', 'https://10.0.0.1/'),
    await jar.getCookieString('https://a.b.example.co.uk/'),
    await jar.getCookieString('https://vc.example.com/sdk'),
    await jar.getCookieString('https://x.vc.example.com/'),
    await jar.getCookieString('https://vc.lab.local/'),
    await jar.getCookieString('https://10.0.0.1/'),
  ];
`;

describe('tldts, tough-cookie\'s public-suffix list, in the bundled package', () => {
  it('is not loaded by a short process: connect, login, one call, close', async () => {
    const { compiled } = await inChild(true, 'return null;');
    // The hook sees CommonJS loads: tough-cookie is one.
    expect(compiled).toContain('tough-cookie');
    expect(compiled).not.toContain('tldts');
  });

  it('is what another module gets from require(\'tldts\') after the library loaded, with tldts\'s answers and names', async () => {
    const body = `
      const tldts = require('tldts');
      return [tldts.getPublicSuffix('a.b.example.co.uk'), tldts.getDomain('a.b.example.co.uk'), tldts.parse('https://me.github.io/x').domain /* private suffixes are off by default */, Object.keys(tldts).sort()];
    `;
    const [ours, alone] = await Promise.all([inChild(true, body), inChild(false, body)]);
    expect(ours.results).toEqual(alone.results);
    expect(ours.results).toEqual(['co.uk', 'example.co.uk', 'github.io', expect.arrayContaining(['getDomain', 'getPublicSuffix', 'parse'])]);
  });

  it('answers as tough-cookie alone does once a cookie needs the list, loading it then', async () => {
    const [ours, alone] = await Promise.all([inChild(true, CASES), inChild(false, CASES)]);
    expect(ours.results).toEqual(alone.results);
    const results = ours.results as string[];
    expect(results[0]).toMatch(/^refused: Cookie has domain set to a public suffix/);
    expect(results[1]).toMatch(/^refused: Cookie has domain set to a public suffix/);
    expect(results[3]).toBe('stored');
    expect(results[7]).toBe('d=4');
    expect(ours.compiled).toContain('tldts');
    expect(alone.compiled).toContain('tldts');
  });
});
