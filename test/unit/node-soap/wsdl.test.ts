// sharedWsdl on a small two-document WSDL (a service importing its interface, which includes a
// schema): one parse per set of documents, wherever they are read from; bounded reading.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IHttpClient } from 'soap';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { sharedWsdl } from '../../../src/node-soap/wsdl.ts';
import { tempDir } from '../../fixtures.ts';

const root = tempDir('vim25-shared-wsdl-');

const SERVICE = `<?xml version="1.0"?>
<definitions targetNamespace="urn:t" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:i="urn:t">
  <import location="t.wsdl" namespace="urn:t"/>
  <service name="TService"><port binding="i:TBinding" name="TPort"><soap:address location="https://localhost/sdk"/></port></service>
</definitions>`;
const INTERFACE = `<?xml version="1.0"?>
<definitions targetNamespace="urn:t" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:i="urn:t">
  <types><schema targetNamespace="urn:t" xmlns="http://www.w3.org/2001/XMLSchema"><include schemaLocation="t.xsd"/></schema></types>
  <message name="PingIn"><part name="parameters" element="i:Ping"/></message>
  <message name="PingOut"><part name="parameters" element="i:PingResponse"/></message>
  <portType name="TPortType"><operation name="Ping"><input message="i:PingIn"/><output message="i:PingOut"/></operation></portType>
  <binding name="TBinding" type="i:TPortType"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Ping"><soap:operation soapAction="urn:t/1"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  </binding>
</definitions>`;
const SCHEMA = (note = '') => `<?xml version="1.0"?>
<schema targetNamespace="urn:t" xmlns="http://www.w3.org/2001/XMLSchema">${note}
  <element name="Ping"><complexType><sequence><element name="text" type="string"/></sequence></complexType></element>
  <element name="PingResponse"><complexType><sequence><element name="returnval" type="string"/></sequence></complexType></element>
</schema>`;

let n = 0;
function bundle(files: Record<string, string>): string {
  const dir = join(root, `b${++n}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, 'service.wsdl');
}

let hosts = 0;

/** Serves `files` as a server of its own would at `sdk` (https://vcN.example/sdk/). */
function server(files: Record<string, string>): IHttpClient & { asked: string[]; sdk: string } {
  const asked: string[] = [];
  const sdk = `https://vc${++hosts}.example/sdk/`;
  return {
    asked,
    sdk,
    request: ((url: string, _data: unknown, callback: (err: unknown, res?: unknown, body?: unknown) => void) => {
      asked.push(url);
      const name = url.slice(sdk.length);
      setImmediate(() => (url.startsWith(sdk) && name in files ? callback(null, { status: 200 }, files[name]) : callback(null, { status: 404 }, 'not found')));
    }) as never,
  };
}

const noHttp = server({});
/** The TLS policy the documents are read under (verification against a CA). */
const CA = { ca: 'a CA certificate' };
const FILES = { 'service.wsdl': SERVICE, 't.wsdl': INTERFACE, 't.xsd': SCHEMA() };

describe('sharedWsdl', () => {
  it('parses once for the same documents, from a directory or a server; a changed byte in an included schema is parsed on its own', async () => {
    const a = await sharedWsdl(bundle(FILES), noHttp, CA);
    expect(Object.keys(a.definitions.portTypes)).toEqual(['TPortType']);
    expect(await sharedWsdl(bundle(FILES), noHttp, CA)).toBe(a);
    const vc = server(FILES);
    expect(await sharedWsdl(`${vc.sdk}service.wsdl`, vc, CA)).toBe(a);
    expect(await sharedWsdl(`${vc.sdk}service.wsdl`, vc, CA)).toBe(a);
    // Each document was downloaded once, through the client's transport: once per location.
    expect(vc.asked).toEqual(['service.wsdl', 't.wsdl', 't.xsd'].map((f) => `${vc.sdk}${f}`));
    // Under another TLS policy the same URL is read again: what a client without verification
    // read is not taken by one that verifies the server (and not the reverse either).
    await sharedWsdl(`${vc.sdk}service.wsdl`, vc, { insecure: true });
    await sharedWsdl(`${vc.sdk}service.wsdl`, vc, { thumbprint: 'AB'.repeat(32) });
    expect(vc.asked).toHaveLength(9);
    await sharedWsdl(`${vc.sdk}service.wsdl`, vc, { ...CA, cert: 'a client certificate' }); // who asks is not whom it trusts
    expect(vc.asked).toHaveLength(9);
    const b = await sharedWsdl(bundle({ ...FILES, 't.xsd': SCHEMA('<!-- another build -->') }), noHttp, CA);
    expect(b).not.toBe(a);
    expect(Object.keys(b.definitions.portTypes)).toEqual(['TPortType']);
  });

  it('follows imports and includes after documentation and annotations, where WSDL and XML Schema allow them', async () => {
    const annotated = server({
      'service.wsdl': SERVICE.replace('<import', '<documentation>the service</documentation><import'),
      't.wsdl': INTERFACE,
      't.xsd': SCHEMA().replace('<element name="Ping">', '<element name="Unused" type="string"/><element name="Ping">')
        .replace('xmlns="http://www.w3.org/2001/XMLSchema">', 'xmlns="http://www.w3.org/2001/XMLSchema"><annotation><documentation>types</documentation></annotation><include schemaLocation="u.xsd"/>'),
      'u.xsd': '<schema targetNamespace="urn:t" xmlns="http://www.w3.org/2001/XMLSchema"><element name="U" type="string"/></schema>',
    });
    const parsed = await sharedWsdl(`${annotated.sdk}service.wsdl`, annotated, CA);
    expect(Object.keys(parsed.definitions.portTypes)).toEqual(['TPortType']);
    expect(annotated.asked).toEqual(['service.wsdl', 't.wsdl', 't.xsd', 'u.xsd'].map((f) => `${annotated.sdk}${f}`));
  });

  it('reads a document that imports itself once, refuses more than 64 documents, and names a missing one', async () => {
    const loop = await sharedWsdl(bundle({ ...FILES, 't.xsd': SCHEMA('<include schemaLocation="t.xsd"/>') }), noHttp, CA);
    expect(Object.keys(loop.definitions.portTypes)).toEqual(['TPortType']);
    const chain: Record<string, string> = { 'service.wsdl': SERVICE.replace('t.wsdl', 's0.xsd') };
    for (let i = 0; i < 70; i++) chain[`s${i}.xsd`] = `<schema xmlns="http://www.w3.org/2001/XMLSchema"><include schemaLocation="s${i + 1}.xsd"/></schema>`;
    const chained = server(chain);
    const tooMany = await sharedWsdl(`${chained.sdk}service.wsdl`, chained, CA).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(TransportError);
    expect(tooMany).toMatchObject({ code: 'EWSDL', message: expect.stringMatching(/more than 64 documents/) });
    const partial = server({ 'service.wsdl': SERVICE });
    await expect(sharedWsdl(`${partial.sdk}service.wsdl`, partial, CA)).rejects.toMatchObject({ code: 'EWSDL', message: expect.stringMatching(/t\.wsdl: HTTP 404/) });
    // A server that serves no WSDL at all (vcsim): the error says so and how to pass one.
    await expect(sharedWsdl(`${noHttp.sdk}vimService.wsdl`, noHttp, CA)).rejects.toMatchObject({
      code: 'EWSDL', message: expect.stringMatching(/HTTP 404: the server serves no WSDL there \(vcsim serves none\)\. Pass one: createSoapClient\(client, \{ wsdl:/),
    });
  });
});
