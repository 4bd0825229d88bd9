// The oracle itself: it must reject what the schema rejects (a misordered sequence), accept
// what it accepts, and carry the envelope's namespace declarations over to the operation.
// Crafted requests are validated straight from a temporary directory, never sent to the
// harness, so they cannot end up among the run's captured requests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures.ts';
import { extractOperation, validateEnvelopes, validateOperations } from './oracle.ts';

const dir = tempDir('vim25-oracle-');

const SOAPENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const envelope = (body: string, envAttrs = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="${SOAPENV}"${envAttrs}><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('wire conformance oracle', () => {
  it('rejects a Login whose <password> comes before <userName>, with xmllint\'s message', async () => {
    const misordered = write('misordered-login.xml', envelope(
      '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><password>p</password><userName>u</userName></Login>',
    ));
    const ordered = write('ordered-login.xml', envelope(
      '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>u</userName><password>p</password></Login>',
    ));
    const [bad, good] = await validateEnvelopes([misordered, ordered], join(dir, 'ops'));
    expect(good).toEqual({ file: ordered, valid: true, messages: [] });
    expect(bad?.file).toBe(misordered);
    expect(bad?.valid).toBe(false);
    expect(bad?.messages.join('\n')).toMatch(/Element '\{urn:vim25\}password': This element is not expected\. Expected is \( \{urn:vim25\}userName \)/);
  });

  it('carries prefix declarations from the envelope, so prefixed operations and xsi:type validate', async () => {
    const body =
      '<vim25:RetrievePropertiesEx><vim25:_this type="PropertyCollector">propertyCollector</vim25:_this>' +
      '<vim25:specSet><vim25:propSet><vim25:type>Folder</vim25:type><vim25:pathSet>name</vim25:pathSet></vim25:propSet>' +
      '<vim25:objectSet><vim25:obj type="Folder">group-d1</vim25:obj><vim25:skip>false</vim25:skip>' +
      '<vim25:selectSet xsi:type="vim25:TraversalSpec"><vim25:name>t</vim25:name><vim25:type>Folder</vim25:type><vim25:path>childEntity</vim25:path></vim25:selectSet>' +
      '</vim25:objectSet></vim25:specSet><vim25:options/></vim25:RetrievePropertiesEx>';
    const env = envelope(body, ' xmlns:vim25="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"');
    const op = extractOperation(env);
    expect(op).toMatch(/^<\?xml[^>]*>\n<vim25:RetrievePropertiesEx xmlns:soapenv="[^"]+" xmlns:vim25="urn:vim25" xmlns:xsi="[^"]+">/);
    const [ok] = await validateEnvelopes([write('prefixed.xml', env)], join(dir, 'ops2'));
    expect(ok?.valid).toBe(true);

    // The same request with the subtype's xsi:type missing is caught (selectSet is SelectionSpec).
    const untyped = envelope(body.replace(' xsi:type="vim25:TraversalSpec"', ''), ' xmlns:vim25="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"');
    const [bad] = await validateEnvelopes([write('untyped.xml', untyped)], join(dir, 'ops3'));
    expect(bad?.valid).toBe(false);
    expect(bad?.messages.join('\n')).toContain('{urn:vim25}type');
  });

  it('keeps the operation\'s own declarations over inherited ones', () => {
    const op = extractOperation(envelope('<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>', ' xmlns="urn:other"'));
    expect(op).toContain('<CurrentTime xmlns:soapenv=');
    expect(op).not.toContain('urn:other');
  });

  it('reports envelopes without an operation instead of passing them', async () => {
    expect(() => extractOperation('<x/>')).toThrow(/no SOAP Envelope/);
    expect(() => extractOperation(envelope(''))).toThrow(/no operation element/);
    const [v] = await validateEnvelopes([write('empty.xml', envelope('<!-- nothing -->'))], join(dir, 'ops4'));
    expect(v?.valid).toBe(false);
    expect(v?.messages[0]).toMatch(/no operation element/);
  });

  it('validates many files in one go and attributes each message to its file', async () => {
    const files = Array.from({ length: 60 }, (_, i) =>
      write(`op-${i}.xml`, i % 20 === 7
        ? '<CurrentTime xmlns="urn:vim25"><bogus/></CurrentTime>'
        : '<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>'));
    const verdicts = await validateOperations(files);
    expect(verdicts.filter((v) => !v.valid).map((v) => v.file).sort()).toEqual([files[7], files[27], files[47]].sort());
    expect(verdicts.find((v) => v.file === files[27])?.messages.join('\n')).toContain('bogus');
  });
});
