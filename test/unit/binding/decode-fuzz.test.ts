// Property: whatever a server sends, the decoder settles, and only ever fails with a
// TransportError (a decodable fault is a result, turned into a VimFault by the caller).
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeResponseStream } from '../../../src/binding/decode.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { TransportError } from '../../../src/errors.ts';

const env = (body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

const SAMPLES: [string, string][] = [
  ['RetrievePropertiesEx', env('<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>t1</token><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>1,048,576 KB</summary></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] vm/vm.vmdk</fileName><diskMode>persistent</diskMode></backing><capacityInKB>1048576</capacityInKB></VirtualDevice></val></propSet><propSet><name>n</name><val xsi:type="xsd:long">9007199254740993</val></propSet><missingSet><path>x</path><fault><fault xsi:type="NotAuthenticated"><privilegeId>System.View</privilegeId></fault><localizedMessage>no</localizedMessage></fault></missingSet></objects></returnval></RetrievePropertiesExResponse>')],
  ['Login', env('<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Cannot complete login due to an incorrect user name or password.</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault>')],
  ['CurrentTime', env('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024-01-01T00:00:00Z</returnval></CurrentTimeResponse>')],
];

const NASTY = ['<', '>', '&', '&amp;', '&xxe;', '&#0;', '&#x110000;', ']]>', '<![CDATA[', '<!--', '-->', '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '"', "'", '</', '/>', '\u0000', '\uFFFF', 'é', '\uD83D', 'xsi:type="', 'ArrayOf'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 12 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'flip'; at: number; byte: number };

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length ? m.at % (bytes.length + 1) : 0;
  switch (m.kind) {
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, 'utf8'), bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case 'flip': {
      const copy = Buffer.from(bytes);
      if (at < copy.length) copy[at] = m.byte;
      return copy;
    }
    default:
      return bytes;
  }
}

function settleWithin<T>(p: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return Promise.race([
    p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('decoder hung')), ms)),
  ]);
}

describe('decoder under random, truncated and mutated answers', () => {
  it('settles with a result or a TransportError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAMPLES), fc.array(mutation, { maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), async ([method, xml], mutations, splits) => {
        let bytes: Buffer = Buffer.from(xml, 'utf8');
        for (const m of mutations) bytes = mutate(bytes, m);
        const chunks: Buffer[] = [];
        for (let i = 0, k = 0; i < bytes.length; k++) {
          const n = splits[k % splits.length]!;
          chunks.push(bytes.subarray(i, i + n));
          i += n;
        }
        const outcome = await settleWithin(decodeResponseStream(methodInfo(method)!, Readable.from(chunks), 200), 2000);
        if (!outcome.ok) expect(outcome.error).toBeInstanceOf(TransportError);
      }),
      { numRuns: 1500 },
    );
  });

  it('settles for arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (data) => {
        const outcome = await settleWithin(decodeResponseStream(methodInfo('CurrentTime')!, Readable.from([Buffer.from(data)]), 200), 2000);
        if (!outcome.ok) expect(outcome.error).toBeInstanceOf(TransportError);
      }),
      { numRuns: 500 },
    );
  });
});
