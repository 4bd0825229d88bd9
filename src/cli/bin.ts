#!/usr/bin/env node
// The `vim25-soap` executable (package.json bin): runs the command line and sets the exit code.
import { run } from './main.ts';

// A reader that went away (`vim25-soap ls | head -1`) ends the output, as for any Unix tool,
// not the process with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await run(process.argv.slice(2), process.env, process.stdout, process.stderr);
