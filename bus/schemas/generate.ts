// Writes bus/schemas/<kind>.schema.json from the TypeBox definitions.
// Run: node --import tsx bus/schemas/generate.ts   (a test fails when the files are out of date)
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { HINT_KINDS, SCHEMAS, type HintKind } from './definitions.ts';

export const SCHEMA_DIR = dirname(fileURLToPath(import.meta.url));
const DRAFT = 'http://json-schema.org/draft-07/schema#';

export function schemaFileName(kind: HintKind): string {
  return `${kind}.schema.json`;
}

/** The exact text of every shipped schema file, keyed by file name. */
export function renderSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of HINT_KINDS) {
    // JSON.stringify drops TypeBox's symbol keys, leaving plain JSON Schema.
    const doc = { $schema: DRAFT, ...SCHEMAS[kind] };
    files.set(schemaFileName(kind), JSON.stringify(doc, null, 2) + '\n');
  }
  return files;
}

async function main(): Promise<void> {
  for (const [name, text] of renderSchemaFiles()) {
    await writeFile(join(SCHEMA_DIR, name), text);
    console.log(`wrote bus/schemas/${name}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
