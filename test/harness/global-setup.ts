// vitest global setup: one harness for the whole run, described to tests through inject('harness').
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { Harness, type HarnessInfo } from './vcsim.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    harness: HarnessInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const harness = await Harness.start({ wsdlDir: bundleDir() });
  project.provide('harness', harness.info);
  return () => harness.stop();
}
