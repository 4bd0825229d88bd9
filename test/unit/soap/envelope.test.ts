import { describe, expect, it } from 'vitest';
import { readXml } from '../../../src/binding/xml-reader.ts';
import { requestEnvelope, soapEnvelope, WSSE_NS, WSU_NS } from '../../../src/soap/envelope.ts';

function elements(xml: string): string[] {
  const names: string[] = [];
  readXml(xml, { open: (name) => names.push(name) });
  return names;
}

describe('requestEnvelope', () => {
  it('wraps the body in the request element, in the vim25 namespace', () => {
    const xml = requestEnvelope('CurrentTime', '<_this type="ServiceInstance">ServiceInstance</_this>');
    expect(elements(xml)).toEqual(['soap:Envelope', 'soap:Body', 'vim25:CurrentTime', '_this']);
    expect(xml).toContain('<vim25:CurrentTime xmlns:vim25="urn:vim25" xmlns="urn:vim25">');
  });

  it('puts a WS-Security header before the Body, an id on the Body, and lets a signer finish it', () => {
    const seen: string[] = [];
    const xml = requestEnvelope('LoginByToken', '<_this type="SessionManager">SessionManager</_this>', {
      security: '<wsu:Timestamp wsu:Id="_ts"><wsu:Created>2026-01-01T00:00:00Z</wsu:Created></wsu:Timestamp><saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"/>',
      bodyId: '_body',
      sign: (envelope) => {
        seen.push(envelope);
        return envelope.replace('</wsse:Security>', '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></wsse:Security>');
      },
    });
    expect(seen).toHaveLength(1);
    expect(elements(xml)).toEqual(['soap:Envelope', 'soap:Header', 'wsse:Security', 'wsu:Timestamp', 'wsu:Created', 'saml2:Assertion', 'ds:Signature', 'soap:Body', 'vim25:LoginByToken', '_this']);
    expect(xml).toContain(`<wsse:Security xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}">`);
    expect(xml).toContain(`<soap:Body xmlns:wsu="${WSU_NS}" wsu:Id="_body">`);
  });

  it('a header without a Security puts no soap:Header; one without a Body id leaves the Body plain', () => {
    expect(elements(soapEnvelope('<x/>', { bodyId: '_b' }))).toEqual(['soap:Envelope', 'soap:Body', 'x']);
    expect(soapEnvelope('<x/>', { bodyId: '_b' })).toContain(`<soap:Body xmlns:wsu="${WSU_NS}" wsu:Id="_b"><x/></soap:Body>`);
    const withSecurity = soapEnvelope('<x/>', { security: '<t/>' });
    expect(elements(withSecurity)).toEqual(['soap:Envelope', 'soap:Header', 'wsse:Security', 't', 'soap:Body', 'x']);
    expect(withSecurity).toContain('</soap:Header><soap:Body><x/></soap:Body>');
    expect(soapEnvelope('<x/>', {})).toBe(soapEnvelope('<x/>'));
  });
});

