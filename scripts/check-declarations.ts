// `npm run build`, once the declarations (and their .d.cts twins) are written: none of them names
// an internal of the library (scripts/lib/declarations.ts).
import { join } from 'node:path';
import { declarationProblems } from './lib/declarations.ts';
import { ROOT } from './lib/paths.ts';

const problems = declarationProblems(join(ROOT, 'dist'));
if (problems.length > 0) {
  console.error(`the declarations in dist/ name internals of the library:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
