// Which packages a fresh process loads when it imports one of the library's entry points: the
// entry is bundled with its packages left out (bundle.ts), so the child runs on plain node and
// loads exactly the packages the sources import.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../scripts/lib/paths.ts';
import { bundledEntry } from './bundle.ts';

/** The node_modules packages loaded after importing `entry` (a source path from the root; CommonJS ones are in require.cache). */
export function loadedPackages(entry: string): Promise<string[]> {
  const { file, execArgv } = bundledEntry(join(ROOT, entry));
  const script = `
    await import(${JSON.stringify(pathToFileURL(file).href)});
    const { createRequire } = await import('node:module');
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = new Set(cache.map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...names].sort()));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...execArgv, '--input-type=module', '-e', script], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as string[]);
    });
  });
}
