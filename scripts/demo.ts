// The demo: connect, log in, print about and the user session, log out.
// Against a local vcsim by default (needs Go, no WSDL bundle); set VC_URL, VC_USER, VC_PASSWORD (and VC_CA or VC_THUMBPRINT)
// to run it against a real vCenter or ESXi.
import { readFileSync } from 'node:fs';
import { VimClient, type TlsOptions } from '../src/index.ts';
import { Harness } from '../test/harness/vcsim.ts';

async function main(): Promise<void> {
  let harness: Harness | undefined;
  let url = process.env.VC_URL;
  let username = process.env.VC_USER ?? '';
  let password = process.env.VC_PASSWORD ?? '';
  let tls: TlsOptions = {};
  if (url) {
    if (process.env.VC_CA) tls = { ca: readFileSync(process.env.VC_CA) };
    else if (process.env.VC_THUMBPRINT) tls = { thumbprint: process.env.VC_THUMBPRINT };
  } else {
    // The client needs no WSDL at run time, so neither does the simulator the demo starts.
    harness = await Harness.start({ captureDir: '' });
    ({ url, username, password } = harness.info);
    tls = { ca: harness.ca };
    console.log(`started vcsim at ${url} (certificate sha256 ${harness.info.sha256})`);
  }
  try {
    const started = performance.now();
    const client = await VimClient.connect(url, { tls });
    console.log(`connected in ${Math.round(performance.now() - started)} ms, SOAPAction urn:vim25/${client.apiVersion}`);
    const { about } = client;
    console.log('about:', { name: about.name, fullName: about.fullName, apiType: about.apiType, apiVersion: about.apiVersion, instanceUuid: about.instanceUuid });
    const session = await client.login({ username, password });
    console.log('user session:', { userName: session.userName, fullName: session.fullName, loginTime: session.loginTime, locale: session.locale, ipAddress: session.ipAddress });
    console.log('server time:', await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance')));
    await client.logout();
    console.log('logged out');
    await client.close();
  } finally {
    await harness?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exitCode = 1;
});
