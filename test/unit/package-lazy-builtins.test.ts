// The package's bundle takes Node's built-ins from process.getBuiltinModule instead of ES imports
// (scripts/lib/esbuild-package.ts, issue 34): an ES import of node:http makes its namespace, which
// on Node 22+ reads the WebSocket/MessageEvent getters and loads Node's own undici. Checked by
// what the bundle says and what a fresh process loads (process.moduleLoadList), not by timing.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinImport } from '../../scripts/lib/esbuild-package.ts';
import { ROOT } from '../../scripts/lib/paths.ts';
import { packageFiles } from '../harness/package.ts';

describe('builtinImport: what a module imports from a built-in', () => {
  it('reads default, named, renamed and multi-line imports, leaving types out', () => {
    const source = [
      "import http, { type ClientRequestArgs } from 'node:http';",
      "import { createHash, randomBytes as bytes } from 'node:crypto';",
      'import {',
      '  readFile,',
      '  type Stats,',
      "  writeFile, } from 'node:fs/promises';",
      "import type { Socket } from 'node:net';",
      "import { join } from 'node:path'; import { EventEmitter } from \"node:events\";",
    ].join('\n');
    expect(builtinImport(source, 'node:http')).toEqual({ default: 'http', names: [], namespace: false });
    expect(builtinImport(source, 'node:crypto')).toEqual({ names: ['createHash', 'randomBytes'], namespace: false });
    expect(builtinImport(source, 'node:fs/promises')).toEqual({ names: ['readFile', 'writeFile'], namespace: false });
    expect(builtinImport(source, 'node:net')).toBeUndefined();
    expect(builtinImport(source, 'node:path')).toEqual({ names: ['join'], namespace: false });
    expect(builtinImport(source, 'node:os')).toBeUndefined();
  });

  it('marks a namespace import, and gives up on what it cannot read', () => {
    expect(builtinImport("import * as fs from 'node:fs';", 'node:fs')).toEqual({ names: [], namespace: true });
    expect(builtinImport("import { a-b } from 'node:fs';", 'node:fs')).toBeUndefined();
  });

  it('merges two imports of one built-in', () => {
    expect(builtinImport("import os from 'node:os';\nimport { homedir, tmpdir } from 'node:os';", 'node:os')).toEqual({ default: 'os', names: ['homedir', 'tmpdir'], namespace: false });
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Node 22 and 24 as scripts/node-matrix.sh installs them, and this process's node if it is 22 or later. */
// Node 22 and 24 as scripts/setup.sh installs them (scripts/node-matrix.sh), whatever node runs the tests.
const nodes = [22, 24].map((m) => {
  const bin = join(ROOT, `.cache/node/${m}/bin/node`);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/setup.sh (npm test does)`);
  return bin;
});

function loadsNodesUndici(node: string, script: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile(node, ['--input-type=module', '-e', `${script}\nconsole.log(JSON.stringify(process.moduleLoadList.some((m) => m.includes('internal/deps/undici/undici'))));`], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as boolean);
    });
  });
}

describe('the bundled package and Node\'s built-ins', () => {
  it('has no ES import of a built-in left', () => {
    const dist = dirname(packageFiles()['vim25-soap']);
    const files = walk(dist).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    const left = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^import[^;]*?from\s*"(node:[^"]+)"/gm)].map((m) => `${f}: ${m[1]}`));
    expect(left).toEqual([]);
    expect(files.some((f) => readFileSync(f, 'utf8').includes('process.getBuiltinModule("node:http")'))).toBe(true);
  });

  it('does not load Node\'s own undici when imported on Node 22 and later (an ES import of node:http does)', async () => {
    const entry = JSON.stringify(pathToFileURL(packageFiles()['vim25-soap']).href);
    for (const node of nodes) {
      expect(await loadsNodesUndici(node, "import 'node:http';")).toBe(true);
      expect(await loadsNodesUndici(node, `await import(${entry});`)).toBe(false);
    }
  });
});
