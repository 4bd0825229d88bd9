// What the command prints: tables on a terminal, tab-separated lines in a pipe, JSON with
// --json. Values are shown as a vSphere user reads them: references as Type:value, dates as
// ISO strings, data objects as compact JSON.

export interface Output {
  json: boolean;
  write(text: string): void;
  isTTY: boolean;
}

/** JSON for any decoded value: dates as ISO strings, bigints as strings, bytes as base64. */
export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  }, space);
}

function isRef(v: unknown): v is { type: string; value: string } {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.type === 'string' && typeof o.value === 'string' && Object.keys(o).every((k) => k === 'type' || k === 'value' || k === '_typeName');
}

/** One cell: a reference as Type:value, a date as ISO, anything else as text or compact JSON. */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (isRef(v)) return `${v.type}:${v.value}`;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) && v.every(isRef)) return v.map(cell).join(',');
  if (typeof v === 'object') return toJson(v);
  return String(v);
}

/** Rows under a header: aligned on a terminal, tab-separated otherwise, JSON objects with --json. */
export function printTable(out: Output, header: readonly string[], rows: readonly (readonly unknown[])[], json: () => unknown): void {
  if (out.json) {
    out.write(`${toJson(json(), 2)}\n`);
    return;
  }
  const cells = rows.map((r) => r.map(cell));
  if (!out.isTTY) {
    for (const r of cells) out.write(`${r.join('\t')}\n`);
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  out.write(`${line(header)}\n`);
  for (const r of cells) out.write(`${line(r)}\n`);
}

/** A progress bar on a terminal's stderr, nothing elsewhere. */
export function progressBar(stream: NodeJS.WriteStream, label: string): { update(percent: number): void; done(): void } {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  const width = 30;
  const draw = (p: number) => {
    const filled = Math.round((Math.max(0, Math.min(100, p)) / 100) * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p).padStart(3)}%`);
  };
  draw(0);
  return { update: draw, done: () => stream.write('\n') };
}
