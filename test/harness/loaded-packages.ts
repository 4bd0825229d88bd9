// Which packages a fresh process loads when it imports one of the package's entry points, from
// the run's bundled copy of the package (package.ts), on plain node.
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../scripts/lib/paths.ts';
import { packageFiles } from './package.ts';

/** The node_modules packages loaded after importing `entry` (CommonJS ones are in require.cache). */
export function loadedPackages(entry: keyof ReturnType<typeof packageFiles>): Promise<string[]> {
  const script = `
    await import(${JSON.stringify(pathToFileURL(packageFiles()[entry]).href)});
    const { createRequire } = await import('node:module');
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = new Set(cache.map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1]).filter(Boolean));
    console.log(JSON.stringify([...names].sort()));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as string[]);
    });
  });
}
