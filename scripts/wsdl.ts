// npm run wsdl -- --from <dir | https://host/sdk> [--out DIR] [--insecure] [--ca FILE]
//   Copies or downloads the vim25 WSDL bundle, verifies it against wsdl/manifest.json and writes
//   it to DIR (default <repo>/wsdl/vim25, git-ignored).
// npm run wsdl -- --write-manifest [--from <dir | https://host/sdk>]
//   (Re)writes wsdl/manifest.json from a bundle (default: the development bundle, see paths.ts).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_OUT, MANIFEST_PATH, installBundle, writeManifest, type HttpsOptions } from './lib/wsdl-bundle.ts';
import { ROOT, bundleDir } from './lib/paths.ts';

const USAGE = 'usage: npm run wsdl -- --from <dir | https://host/sdk> [--out DIR] [--insecure] [--ca FILE]\n' +
  '       npm run wsdl -- --write-manifest [--from <dir | https://host/sdk>]';
const USAGE_HINT = 'see npm run wsdl -- --help';

function fail(message: string): never {
  process.stderr.write(`wsdl: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        from: { type: 'string' },
        out: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        ca: { type: 'string' },
        'write-manifest': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)} (${USAGE_HINT})`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const tls: HttpsOptions = {};
  if (values.ca !== undefined) {
    try {
      tls.ca = readFileSync(values.ca);
    } catch (err) {
      fail(`--ca ${values.ca}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (values.insecure) {
    tls.insecure = true;
    console.warn('wsdl: warning: --insecure: TLS certificate verification is OFF; the manifest check still applies');
  }

  if (values['write-manifest']) {
    if (values.out !== undefined) fail('--out does not apply to --write-manifest (it always writes wsdl/manifest.json)');
    const from = values.from ?? bundleDir();
    const manifest = await writeManifest(from, MANIFEST_PATH, tls);
    console.log(`wrote ${relative(ROOT, MANIFEST_PATH)} from ${from}: ${manifest.files.length} files, soapAction urn:vim25/${manifest.wsdlSoapActionVersion}`);
    return;
  }

  if (values.from === undefined) fail(`--from <dir | https://host/sdk> is required (${USAGE_HINT})`);
  const result = await installBundle({ from: values.from, out: values.out ?? DEFAULT_OUT, ...tls });
  const width = Math.max(...result.files.map((f) => f.name.length));
  for (const f of result.files) console.log(`  ${f.name.padEnd(width)}  ${String(f.size).padStart(9)}  ${f.sha256}`);
  console.log(`wsdl: ${result.files.length} files (${(result.bytes / 1024 / 1024).toFixed(1)} MB, soapAction urn:vim25/${result.soapActionVersion}) ` +
    `from ${result.source} verified against ${relative(ROOT, MANIFEST_PATH)} and written to ${result.out}`);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
