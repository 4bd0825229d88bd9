#!/usr/bin/env node
// The `vim25-soap` executable (package.json bin): runs the command line and sets the exit code.
import { run } from './main.ts';

process.exitCode = await run(process.argv.slice(2), process.env, process.stdout, process.stderr);
