#!/usr/bin/env node
// The `vim25-soap` executable (package.json bin): runs the command line and sets the exit code.
// The command line is a process of its own, one per command: V8's compile cache (Node >= 22.1)
// keeps the bytecode of the package's modules between commands, so a command compiles what it
// runs once, not every time (issue 34). Only here: the library enables nothing process-wide. The
// cache sits beside the kept sessions (~/.cache/vim25-soap), not in a directory shared with other
// users; NODE_COMPILE_CACHE names another one, NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's
// own variables). Node 20 has no compile cache and runs as before. Built-ins come from
// getBuiltinModule: nothing here is an ES import but the command line itself.
const { enableCompileCache } = process.getBuiltinModule('node:module') as { enableCompileCache?: (dir?: string) => unknown };
if (enableCompileCache && !process.env.NODE_COMPILE_CACHE) {
  const { homedir } = process.getBuiltinModule('node:os');
  const { join } = process.getBuiltinModule('node:path');
  enableCompileCache(join(homedir(), '.cache', 'vim25-soap', 'compile-cache'));
}

// A reader that went away (`vim25-soap ls | head -1`) ends the output, as for any Unix tool,
// not the process with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// Loaded once the cache is on, so that the package's modules are compiled through it.
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2), process.env, process.stdout, process.stderr);
