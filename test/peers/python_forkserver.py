#!/usr/bin/python3
"""Runs Python programs for the tests as `python3 ARGS...` would, one forked process each.

Importing pyvmomi is ~0.2 s of CPU, most of a short peer run; this process imports it once, then
forks a child per request, so each run starts with it loaded and otherwise as a fresh process.

It is started with a directory for the runs' output, which it removes when it ends.
Requests arrive on stdin, one JSON object per line:
  {"id": N, "args": ["script.py", ...] | ["-c", "code", ...], "env": {...} | null,
   "stdout": "/path", "stderr": "/path"}
The child sends its file descriptors 1 and 2 to those files, runs the program with `sys.argv`,
`sys.path[0]` and the environment `python3` would give it, and answers on stdout with
{"id": N, "pid": P} when it starts and {"id": N, "code": C} when it ends. End of stdin ends
this process; children still running finish on their own.
"""
import json
import os
import runpy
import shutil
import signal
import sys
import traceback

import pyVim.connect  # noqa: F401  (the import this process exists to share)
import pyVmomi  # noqa: F401

ANSWERS = os.dup(1)


def answer(message):
    # One write of a short line: atomic on a pipe, so children never interleave their answers.
    os.write(ANSWERS, (json.dumps(message) + '\n').encode())


def run(request):
    args = request['args']
    if request.get('env') is not None:
        os.environ.clear()
        os.environ.update(request['env'])
    for fd, path in ((1, request['stdout']), (2, request['stderr'])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
        os.close(out)
    sys.stdout = os.fdopen(1, 'w', closefd=False)
    sys.stderr = os.fdopen(2, 'w', closefd=False)
    code = 0
    try:
        if args[0] == '-c':
            sys.argv = ['-c', *args[2:]]
            sys.path[0] = ''
            exec(compile(args[1], '<string>', 'exec'), {'__name__': '__main__'})
        else:
            sys.argv = list(args)
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
            runpy.run_path(args[0], run_name='__main__')
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
    except BaseException:  # what the interpreter would print before exiting with 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def main():
    # Children are never waited for: their answer says how they ended.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(0)
            answer({'id': request['id'], 'pid': os.getpid()})
            try:
                code = run(request)
            except BaseException:
                code = 1
            answer({'id': request['id'], 'code': code})
            os._exit(code)
    shutil.rmtree(sys.argv[1], ignore_errors=True)


if __name__ == '__main__':
    main()
