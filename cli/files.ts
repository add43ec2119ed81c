// Input files a command is given (topology, registry, sidecar config): read and checked before
// anything starts. A file that cannot be used exits 2 with one line naming the flag, the file and
// the JSON pointer of the bad value, so the fix is one edit away.
import { TopologyError } from '../topologies/topology.ts';
import { RegistryError } from '../bridge/registry.ts';
import { EXIT } from './failures.ts';

/** A file given by a flag that cannot be used; main.ts prints the message and exits 2. */
export class BadFileError extends Error {
  readonly exitCode = EXIT.usage;
}

/** "<what> file <file> (<flag>): at <pointer>: <detail>" for whichever error the loader threw. */
export function describeFileError(what: string, flag: string, file: string, err: unknown): string {
  const head = `${what} file ${file} (${flag})`;
  if (err instanceof TopologyError && /ENOENT/.test(err.detail)) return `${head}: no such file: check the path given with ${flag}.`;
  if (err instanceof TopologyError) return `${head}: at ${err.pointer || '/'}: ${err.detail}. Fix the value in the file.`;
  if (err instanceof RegistryError) return `${head}: ${err.issues.map((i) => `at ${i.path || '/'}: ${i.message}`).join('; ')}. Fix the value in the file.`;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return `${head}: no such file: check the path given with ${flag}.`;
  const message = err instanceof Error ? err.message : String(err);
  // Loaders that put the file in their own message already: say it once.
  const detail = message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  return `${head}: ${/^\//.test(detail) ? `at ${detail}` : detail}. Fix the value in the file.`;
}

export function loadFileChecked<T>(what: string, flag: string, file: string, load: (file: string) => T): T {
  try {
    return load(file);
  } catch (err) {
    throw new BadFileError(describeFileError(what, flag, file, err));
  }
}

export async function loadFileCheckedAsync<T>(what: string, flag: string, file: string, load: (file: string) => Promise<T>): Promise<T> {
  try {
    return await load(file);
  } catch (err) {
    throw new BadFileError(describeFileError(what, flag, file, err));
  }
}
