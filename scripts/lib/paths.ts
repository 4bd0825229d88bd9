// Where the project finds the vim25 bundle during development: the bundle is never committed.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function bundleCandidates(): string[] {
  const env = process.env.VIM25_WSDL_DIR;
  return [...(env ? [resolve(env)] : []), join(ROOT, 'wsdl/vim25'), resolve(ROOT, '../shared/wsdl/vim25')];
}

/**
 * The bundle directory when there is one: for what uses the bundle if it is there (a harness
 * serving it under /sdk/, a client given it for the operations check) and works without it, as
 * it must for an outsider, who has none. What cannot do without it calls bundleDir().
 */
export function bundleIfPresent(): string | undefined {
  return bundleCandidates().find((d) => existsSync(join(d, 'vimService.wsdl')));
}

export function bundleDir(): string {
  const candidates = bundleCandidates();
  const found = candidates.find((d) => existsSync(join(d, 'vimService.wsdl')));
  if (!found) {
    throw new Error(`vim25 WSDL bundle not found (looked in ${candidates.join(', ')}). ` +
      'Set VIM25_WSDL_DIR, or run `npm run wsdl -- --from <dir | https://host/sdk>`.');
  }
  return found;
}

export function managedModelCandidates(): string[] {
  const env = process.env.VIM25_MANAGED_MODEL;
  return [...(env ? [resolve(env)] : []), resolve(ROOT, '../shared/vmodl/vim25-managed.json')];
}

/** The managed-object model (../shared/vmodl/vim25-managed.json): read at generation time, never committed. */
export function managedModelPath(): string {
  const candidates = managedModelCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`managed-object model not found (looked in ${candidates.join(', ')}). Set VIM25_MANAGED_MODEL.`);
  return found;
}
