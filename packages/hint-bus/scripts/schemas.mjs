// Refreshes the shipped schemas (schemas/*.schema.json) from the repository's bus/schemas,
// which bus/schemas/generate.ts writes from the hint definitions. Run before packing.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(pkg, '..', '..', 'bus', 'schemas');
if (existsSync(from)) {
  const names = readdirSync(from).filter((n) => n.endsWith('.schema.json'));
  for (const n of names) copyFileSync(path.join(from, n), path.join(pkg, 'schemas', n));
  console.log(`hint-bus: copied ${names.length} schemas from bus/schemas`);
}
