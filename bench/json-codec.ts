// CPU cost of the VI/JSON codec (issue 27) against JSON.parse and against the SOAP decoder, on
// the same 2048-VM RetrievePropertiesEx page (name, runtime.powerState, config.hardware.device)
// written by the library's own encoders as SOAP and as VI/JSON (test/unit/binding/json-fixtures.ts).
//
//   node --expose-gc --import tsx bench/json-codec.ts [--runs 21] [--vms 2048]
//
// CPU time (user+system of this process, process.cpuUsage) per decode, median and min-max of the
// runs after 3 warm-up runs, each run after a full GC when --expose-gc is given (GC of the run's
// own garbage is counted); the stream rows feed 64 KiB Buffer chunks as a socket would.
import { Readable } from 'node:stream';
import { decodeResponseStream, decodeResponseText } from '../src/binding/decode.ts';
import { decodeJsonResponseStream, decodeJsonResponseText } from '../src/binding/json-decode.ts';
import { JsonReader, type JsonHandler } from '../src/binding/json-reader.ts';
import { encodeJsonValue } from '../src/binding/json-encode.ts';
import { methodInfo } from '../src/binding/metadata.ts';
import { readXml } from '../src/binding/xml-reader.ts';
import { bigRetrieve, retrieveResult } from '../test/unit/binding/json-fixtures.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 21);
const VMS = arg('vms', 2048);

const { xml, json } = bigRetrieve(VMS);
const method = methodInfo('RetrievePropertiesEx')!;
const chunks = (s: string): Buffer[] => {
  const b = Buffer.from(s);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 65536) out.push(b.subarray(i, i + 65536));
  return out;
};
const xmlChunks = chunks(xml);
const jsonChunks = chunks(json);

let values = 0;
const counting: JsonHandler = {
  beginObject: () => void values++, key: () => undefined, endObject: () => undefined, beginArray: () => void values++, endArray: () => undefined,
  string: () => void values++, number: () => void values++, literal: () => void values++,
};
const nothing: JsonHandler = { beginObject() {}, key() {}, endObject() {}, beginArray() {}, endArray() {}, string() {}, number() {}, literal() {} };

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const rows: [string, () => unknown][] = [];
const measure = (name: string, run: () => unknown): void => void rows.push([name, run]);
const ROW = arg('row', -1);

/**
 * Each row in a process of its own (spawned with --row i), so that no row's JIT feedback (the
 * reader's handler calls, say) is shaped by another's: 3 warm-up runs, then RUNS measured ones.
 */
async function runAll(): Promise<void> {
  if (ROW >= 0) {
    const [name, run] = rows[ROW]!;
    for (let i = 0; i < 3; i++) await run();
    const ms: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      gc();
      const t = cpu();
      await run();
      ms.push(cpu() - t);
    }
    ms.sort((a, b) => a - b);
    console.log(`${name.padEnd(52)} ${ms[ms.length >> 1]!.toFixed(1).padStart(7)} ms  (${ms[0]!.toFixed(1)}–${ms[ms.length - 1]!.toFixed(1)})`);
    return;
  }
  const { execFileSync } = await import('node:child_process');
  for (let i = 0; i < rows.length; i++) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--row', String(i), '--runs', String(RUNS), '--vms', String(VMS)], { encoding: 'utf8' });
    process.stdout.write(out);
  }
}

let elements = 0;
if (ROW < 0) {
  const reader = new JsonReader(counting);
  reader.write(json);
  reader.end();
  readXml(xml, { open: () => void elements++ });
}
if (ROW < 0) console.log(`${VMS} VMs: SOAP ${(Buffer.byteLength(xml) / 1e6).toFixed(2)} MB, ${elements} elements; VI/JSON ${(Buffer.byteLength(json) / 1e6).toFixed(2)} MB, ${values} values; ${RUNS} runs, node ${process.version}`);

if (ROW < 0) {
  const { isDeepStrictEqual } = await import('node:util');
  console.log(`JSON decode deep-equals SOAP decode: ${isDeepStrictEqual(decodeResponseText(method, xml), decodeJsonResponseText(method, json))}`);
}

measure('JSON.parse (numbers as doubles, no types)', () => JSON.parse(json));
measure('JsonReader alone (tokens, no-op handler)', () => {
  const r = new JsonReader(nothing);
  r.write(json);
  r.end();
});
measure('decodeJsonResponseText (typed, = SOAP values)', () => decodeJsonResponseText(method, json));
measure('decodeJsonResponseStream, 64 KiB chunks', () => decodeJsonResponseStream(method, Readable.from(jsonChunks), 200));
measure('readXml alone (SAX events, no-op handler)', () => readXml(xml, {}));
measure('decodeResponseText (SOAP)', () => decodeResponseText(method, xml));
measure('decodeResponseStream (SOAP), 64 KiB chunks', () => decodeResponseStream(method, Readable.from(xmlChunks), 200));
const value = retrieveResult(VMS);
measure('encodeJsonValue (the page as VI/JSON)', () => encodeJsonValue('RetrieveResult', value));
measure('JSON.stringify (same object, no types)', () => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
await runAll();
