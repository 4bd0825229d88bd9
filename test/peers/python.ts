// Runs Debian's python3 (where python3-pyvmomi lives; a pyenv python3 on PATH has none) for the
// tests: `python(args)` answers as `execFile('/usr/bin/python3', args)` would, but through one
// fork server per test worker (python_forkserver.py) that has imported pyvmomi already, so each
// of the run's ~20 peer programs no longer pays ~0.2 s of CPU to import it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const SERVER = fileURLToPath(new URL('./python_forkserver.py', import.meta.url));

export interface PythonRun {
  /** The exit status; null when the run was killed at its timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PythonOptions {
  /** The program's whole environment (as execFile's `env`); default: this process's. */
  env?: Record<string, string>;
  /** Killed after this long (default 30 s). */
  timeoutMs?: number;
}

interface Pending {
  onPid: (pid: number) => void;
  onCode: (code: number) => void;
}

let server: { child: ChildProcess; pending: Map<number, Pending>; dir: string } | undefined;
let ids = 0;

function start(): NonNullable<typeof server> {
  // The server removes the directory when it ends, however this worker ended.
  const dir = mkdtempSync(join(tmpdir(), 'python-runs-'));
  const child = spawn(PYTHON, [SERVER, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<number, Pending>();
  const s = { child, pending, dir };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id: number; pid?: number; code?: number };
    const p = pending.get(m.id);
    if (m.pid !== undefined) p?.onPid(m.pid);
    else p?.onCode(m.code!);
  });
  child.on('exit', () => {
    if (server === s) server = undefined;
    for (const p of pending.values()) p.onCode(-1);
  });
  // Never what keeps a worker alive: the server ends with its stdin, when the worker does.
  child.unref();
  for (const stream of [child.stdin, child.stdout] as unknown as { unref?: () => void }[]) stream.unref?.();
  return (server = s);
}

/** `python3 ...args` (a script and its arguments, or `-c CODE ...`): its status and output. */
export function python(args: readonly string[], options: PythonOptions = {}): Promise<PythonRun> {
  const s = server ?? start();
  const id = ++ids;
  const files = { stdout: join(s.dir, `${id}.out`), stderr: join(s.dir, `${id}.err`) };
  return new Promise<PythonRun>((resolve) => {
    let pid: number | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      finish(null);
    }, options.timeoutMs ?? 30_000);
    const read = (file: string): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      } finally {
        rmSync(file, { force: true });
      }
    };
    const finish = (code: number | null): void => {
      clearTimeout(timer);
      s.pending.delete(id);
      resolve({ code, stdout: read(files.stdout), stderr: read(files.stderr) });
    };
    s.pending.set(id, {
      onPid: (p) => {
        pid = p;
        if (timedOut) process.kill(p, 'SIGKILL');
      },
      onCode: (code) => {
        if (!timedOut) finish(code < 0 ? null : code);
      },
    });
    s.child.stdin!.write(`${JSON.stringify({ id, args, env: options.env ?? null, ...files })}\n`);
  });
}

/** python(), failing unless the program exits with 0: its stdout. */
export async function pythonOk(args: readonly string[], options: PythonOptions = {}): Promise<string> {
  const r = await python(args, options);
  if (r.code !== 0) throw new Error(`python3 ${args[0] === '-c' ? '-c …' : args[0]}: exit ${String(r.code)}\n${r.stderr}`);
  return r.stdout;
}
