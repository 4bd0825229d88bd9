// QueryPerf's answers -> series of (time, value): either format the server answers in (normal:
// PerfEntityMetric with PerfSampleInfo and PerfMetricIntSeries; csv: PerfEntityMetricCSV, whose
// sampleInfoCSV is "interval,time,interval,time,…" and each series' value "v,v,…"), in time order
// (vcsim answers newest first), without the server's -1 (no value for that sample), and values
// scaled by the counter's unit. A series has a value per sample; one that has not cannot be
// paired with the times (vcsim leaves every 0 out: govmomi encodes the values `omitempty`), and
// is given no samples rather than wrong ones (pyvmomi's zip would shift them).
import type { ManagedObjectReference, PerfEntityMetric, PerfEntityMetricBase, PerfEntityMetricCSV, PerfMetricIntSeries, PerfMetricSeriesCSV } from '../generated/types.ts';

export interface RawSample {
  time: Date;
  /** The server's value, unscaled. */
  raw: number;
}

export interface DecodedSeries {
  entity: ManagedObjectReference;
  counterId: number;
  instance: string;
  /** In time order, one per timestamp; samples without a value left out. */
  samples: RawSample[];
  /** The series had another number of values than the answer has samples: none could be paired. */
  misaligned?: true;
}

/** The value vCenter reports for a sample it has no value for. */
const NO_VALUE = -1;

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** sampleInfoCSV: "20,2024-05-01T10:00:20Z,20,2024-05-01T10:00:40Z" -> the times (undefined where unreadable). */
export function parseSampleInfoCsv(text: string): Array<Date | undefined> {
  if (text.trim() === '') return [];
  const fields = text.split(',');
  const times: Array<Date | undefined> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const t = new Date(fields[i + 1]!.trim());
    times.push(Number.isNaN(t.getTime()) ? undefined : t);
  }
  return times;
}

/** A series' values as CSV ("12,-1,,40") -> numbers, undefined where there is none. */
export function parseValuesCsv(text: string | undefined): Array<number | undefined> {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map(toNumber);
}

function pair(entity: ManagedObjectReference, counterId: number, instance: string, times: ReadonlyArray<Date | undefined>, values: ReadonlyArray<number | undefined>): DecodedSeries {
  if (values.length !== times.length) return { entity, counterId, instance, samples: [], misaligned: true };
  const byTime = new Map<number, RawSample>();
  for (let i = 0; i < times.length; i++) {
    const time = times[i];
    const raw = values[i];
    if (time === undefined || raw === undefined || raw === NO_VALUE || !Number.isFinite(raw)) continue;
    byTime.set(time.getTime(), { time, raw });
  }
  const samples = [...byTime.values()].sort((a, b) => a.time.getTime() - b.time.getTime());
  return { entity, counterId, instance, samples };
}

const isCsv = (m: PerfEntityMetricBase): m is PerfEntityMetricCSV => m._typeName === 'PerfEntityMetricCSV' || typeof (m as Partial<PerfEntityMetricCSV>).sampleInfoCSV === 'string';

/** Every series of a QueryPerf answer, whichever format it came in. */
export function decodeQueryPerf(answer: readonly PerfEntityMetricBase[] | undefined): DecodedSeries[] {
  const out: DecodedSeries[] = [];
  for (const m of answer ?? []) {
    if (isCsv(m)) {
      const times = parseSampleInfoCsv(m.sampleInfoCSV);
      for (const s of m.value ?? []) out.push(pair(m.entity, s.id.counterId, s.id.instance, times, parseValuesCsv(s.value)));
      continue;
    }
    const normal = m as PerfEntityMetric;
    const times = (normal.sampleInfo ?? []).map((i) => i.timestamp);
    for (const s of normal.value ?? []) {
      // PerfMetricIntSeries in practice; a CSV series (a string) is read as well.
      const v = (s as PerfMetricIntSeries | PerfMetricSeriesCSV).value;
      const values = typeof v === 'string' ? parseValuesCsv(v) : (v ?? []).map(toNumber);
      out.push(pair(m.entity, s.id.counterId, s.id.instance, times, values));
    }
  }
  return out;
}

/**
 * A raw value in the counter's unit as people read it: vSphere reports percentages in hundredths
 * of a percent (cpu.usage.average 2534 is 25.34 %); every other unit as it is.
 */
export function scaled(raw: number, unit: string): number {
  return unit === 'percent' ? raw / 100 : raw;
}
