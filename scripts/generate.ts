// npm run generate [-- --out DIR --wsdl DIR --model FILE]: reads the vim25 bundle and the
// managed-object model and writes src/generated/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateAll } from './lib/generated.ts';
import { bundleDir, managedModelPath } from './lib/paths.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, wsdl: { type: 'string' }, model: { type: 'string' } } });
const dir = values.wsdl ?? bundleDir();
const modelPath = values.model ?? managedModelPath();
const out = resolve(values.out ?? 'src/generated');
const { files, summary } = generateAll(dir, modelPath);
mkdirSync(out, { recursive: true });
for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
console.log(`generated ${out} from ${dir} and ${modelPath}: ${summary}`);
