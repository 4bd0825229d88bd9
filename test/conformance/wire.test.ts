// Every SOAP request the run's harnesses received must validate against the bundle's schema.
// The global setup (test/harness/global-setup.ts) names the run's capture directory in
// $VIM25_HARNESS_CAPTURE_DIR; this file runs in the "conformance" project, which vitest starts
// only after the main project (unit, integration, harness tests) has finished.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runDir } from '../harness/capture.ts';
import { CAPTURE_ENV } from '../harness/vcsim.ts';
import { validateEnvelopes } from './oracle.ts';

it('every SOAP request sent to the harness during the run validates against the vim25 schema', async (ctx) => {
  const captureDir = process.env[CAPTURE_ENV];
  let names: string[] = [];
  try {
    if (captureDir) names = readdirSync(captureDir).filter((n) => n.endsWith('.xml')).sort();
  } catch {
    // no capture directory: no harness ran in this invocation
  }
  if (names.length === 0) {
    ctx.skip('no SOAP requests were captured in this run (run it together with the integration tests)');
    return;
  }
  const verdicts = await validateEnvelopes(names.map((n) => join(captureDir!, n)), runDir('operations'));
  const invalid = verdicts.filter((v) => !v.valid);
  const report = invalid.map((v) => `${v.file}\n    ${v.messages.join('\n    ')}`).join('\n');
  expect(verdicts).toHaveLength(names.length);
  if (invalid.length > 0) {
    expect.fail(`${invalid.length} of ${verdicts.length} captured SOAP requests do not validate:\n${report}`);
  }
});
