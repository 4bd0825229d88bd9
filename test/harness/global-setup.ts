// vitest global setup: one harness for the whole run, described to tests through inject('harness').
// It and every harness a test starts (through $VIM25_HARNESS_CAPTURE_DIR, inherited by the
// test workers) capture the SOAP requests they receive for the conformance project
// (test/conformance), which vitest runs after the main project.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { prebuildEntries } from './child-entries.ts';
import { findBundle } from './bundle-gate.ts';
import { runDir } from './capture.ts';
import { buildTestPackage } from './package.ts';
import { CAPTURE_ENV, Harness, type HarnessInfo } from './vcsim.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    harness: HarnessInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every TLS peer of the tests is one of ours, trusted by its own certificate; extra CAs from the
  // machine's environment only slowed each Node process the run starts (~70 ms of CPU to parse a
  // system bundle at start-up, before the first line of the test or child runs). The workers and
  // their children inherit this environment.
  delete process.env.NODE_EXTRA_CA_CERTS;
  process.env[CAPTURE_ENV] = runDir('requests');
  // Without a bundle (suites that need it are excluded) the harness serves no WSDL under /sdk/.
  const wsdlDir = findBundle();
  const [harness] = await Promise.all([
    Harness.start(wsdlDir ? { wsdlDir } : {}),
    // The package the tests import (package.ts), then the entries of the child processes (fleet
    // members, the hand-off example) that are not the package's own.
    buildTestPackage().then(() => prebuildEntries(['test/harness/fleet-child.ts', 'examples/clone-handoff.ts'])),
  ]);
  project.provide('harness', harness.info);
  return () => harness.stop();
}
