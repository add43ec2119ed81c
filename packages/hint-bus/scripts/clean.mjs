// Removes the build output that `npm run build` writes beside the sources (src/**/*.js,
// src/**/*.d.ts): inside the repository the .ts sources are used directly.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
for (const e of readdirSync(src, { withFileTypes: true })) {
  if (e.isFile() && (e.name.endsWith('.js') || e.name.endsWith('.d.ts'))) rmSync(path.join(src, e.name));
}
