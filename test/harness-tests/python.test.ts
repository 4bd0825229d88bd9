// The pyvmomi fork server (test/peers/python.ts) answers as `/usr/bin/python3 ARGS` would.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures.ts';
import { python } from '../peers/python.ts';

describe('python() through the fork server', () => {
  it('gives a script its argv, its directory on sys.path, fresh __main__ globals, and its exit status', async () => {
    const dir = tempDir('py-script-');
    writeFileSync(join(dir, 'helper.py'), 'VALUE = 42\n');
    const script = join(dir, 'main.py');
    writeFileSync(script, 'import sys, helper\nprint(sys.argv[1:], helper.VALUE, __name__, "leftover" in globals())\nleftover = 1\nsys.exit(int(sys.argv[1]))\n');
    const first = await python([script, '3', 'b c']);
    expect(first).toEqual({ code: 3, stdout: "['3', 'b c'] 42 __main__ False\n", stderr: '' });
    expect((await python([script, '0'])).stdout).toBe("['0'] 42 __main__ False\n");
  });

  it('runs -c code with the given environment only, and pyvmomi is importable', async () => {
    const r = await python(['-c', 'import os, sys, pyVmomi; print(sorted(os.environ), sys.argv)', 'x'], { env: { ONLY: '1' } });
    expect(r).toEqual({ code: 0, stdout: "['ONLY'] ['-c', 'x']\n", stderr: '' });
  });

  it('reports an uncaught exception on stderr with status 1, and output written at the C level', async () => {
    const r = await python(['-c', 'import os; os.write(1, b"raw\\n"); raise ValueError("boom")']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('raw\n');
    expect(r.stderr).toMatch(/Traceback[\s\S]*ValueError: boom/);
  });

  it('kills a run at its timeout and answers null; runs at the same time keep their own output', async () => {
    const [slow, a, b] = await Promise.all([
      python(['-c', 'import time; print("started", flush=True); time.sleep(30)'], { timeoutMs: 300 }),
      python(['-c', 'print("a" * 70000)']),
      python(['-c', 'print("b" * 70000)']),
    ]);
    expect(slow.code).toBeNull();
    expect([a.stdout, b.stdout]).toEqual([`${'a'.repeat(70000)}\n`, `${'b'.repeat(70000)}\n`]);
  });
});
