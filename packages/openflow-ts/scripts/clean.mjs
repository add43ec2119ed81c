// Removes the build output that `npm run build` writes beside the sources (src/**/*.js,
// src/**/*.d.ts): inside the repository the .ts sources are used directly.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
let removed = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !(entry.name.endsWith('.js') || entry.name.endsWith('.d.ts'))) continue;
  rmSync(path.join(entry.parentPath ?? entry.path, entry.name));
  removed++;
}
if (removed > 0) console.error(`openflow-ts: removed ${removed} built files from src/`);
