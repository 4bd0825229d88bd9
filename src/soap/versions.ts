// The server's vim25 version, from `<sdk>/vimServiceVersions.xml` (served by vCenter and ESXi),
// so that even the first request (RetrieveServiceContent) carries the server's SOAPAction.
import type { HttpTransport } from '../transport/http.ts';

/** The `urn:vim25` version the server advertises, or undefined if it does not say. */
export async function fetchServerVersion(transport: HttpTransport, sdkUrl: string): Promise<string | undefined> {
  const res = await transport.send(`${sdkUrl}/vimServiceVersions.xml`, { method: 'GET' });
  const text = await transport.text(res.body);
  if (res.status !== 200) return undefined;
  for (const ns of text.matchAll(/<namespace>([\s\S]*?)<\/namespace>/g)) {
    const block = ns[1]!;
    if (!/<name>\s*urn:vim25\s*<\/name>/.test(block)) continue;
    const version = /<version>\s*([^<\s]+)\s*<\/version>/.exec(block.replace(/<priorVersions>[\s\S]*?<\/priorVersions>/, ''));
    if (version) return version[1];
  }
  return undefined;
}
