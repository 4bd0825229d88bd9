// npm run generate [-- --out DIR]: reads the vim25 bundle and writes src/generated/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readBundle } from './lib/schema.ts';
import { emitAll } from './lib/emit.ts';
import { bundleDir } from './lib/paths.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, wsdl: { type: 'string' } } });
const dir = values.wsdl ?? bundleDir();
const out = resolve(values.out ?? 'src/generated');
const model = readBundle(dir);
mkdirSync(out, { recursive: true });
for (const [name, text] of Object.entries(emitAll(model))) writeFileSync(join(out, name), text);
console.log(`generated ${out} from ${dir}: ${model.types.size} complex types, ${model.enums.size} enums, ${model.operations.length} operations`);
