// Where every command's settings come from, in one place: flag > MESHFLOW_<FLAG> environment
// variable > config file > built-in default. applyConfig() walks the commander program once,
// after every command has registered its options, so a flag added later gets its environment
// variable and its config-file key without anyone writing code for it.
//
// The config file (--config <file> or MESHFLOW_CONFIG) is YAML or JSON. Keys are flag names,
// camelCase or kebab-case; top-level keys apply to every command that has the flag, and a
// section named after a command applies to that command only and wins over the top level:
//
//   mqttUrl: mqtt://broker:1883        # controller, bridge, replay, hints
//   controller: { ofPort: 6653 }
//   bridge: { api-port: 8181 }
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Option, type Command, type OptionValueSource } from 'commander';
import { parse as parseYaml } from 'yaml';

export const ENV_PREFIX = 'MESHFLOW_';
export const CONFIG_ENV = 'MESHFLOW_CONFIG';

/** A config file that cannot be used. The CLI prints the message and exits with 2. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly file: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Options about configuration itself (or commander's own) never come from the environment or a file. */
const RESERVED = new Set(['config', 'printConfig', 'help', 'version']);

/** `--of-port` → `MESHFLOW_OF_PORT`, `--no-progress` → `MESHFLOW_NO_PROGRESS`. */
export function envVarFor(option: Option): string | undefined {
  if (option.long === undefined) return undefined;
  return ENV_PREFIX + option.long.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

/** `of-port`, `ofPort` and `OfPort` are one key. */
function normalizeKey(key: string): string {
  return key.replace(/[-_]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toLowerCase());
}

/** A switch such as --json or --no-progress (commander's isBoolean() leaves out the negated ones). */
function takesNoValue(option: Option): boolean {
  return !option.required && !option.optional;
}

function isConfigurable(option: Option): boolean {
  return option.long !== undefined && !RESERVED.has(option.attributeName());
}

/** How a file key reaches an option: `progress: false` and `no-progress: true` mean the same. */
interface KeyTarget {
  readonly option: Option;
  readonly invert: boolean;
}

function keyTargets(cmd: Command): Map<string, KeyTarget> {
  const map = new Map<string, KeyTarget>();
  for (const option of cmd.options) {
    if (!isConfigurable(option)) continue;
    map.set(normalizeKey(option.attributeName()), { option, invert: false });
    if (option.negate && option.long) map.set(normalizeKey(option.long.replace(/^--/, '')), { option, invert: true });
  }
  return map;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and parses a config file; YAML covers JSON too. */
export function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(
      `cannot read config file ${file}: ${reason}. Check the path given with --config or ${CONFIG_ENV}, or drop it to run on flags and defaults.`,
      file,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]?.replace(/:$/, '')}. Fix the syntax at that line.`, file);
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlain(doc)) {
    throw new ConfigError(`config file ${file} must hold a mapping of flag names to values (like "ofPort: 6653"), not a ${Array.isArray(doc) ? 'list' : typeof doc}.`, file);
  }
  return doc;
}

/** The commands a file section may name: subcommands of `cmd` by name. */
function childCommands(cmd: Command): Map<string, Command> {
  return new Map(cmd.commands.map((c) => [c.name(), c]));
}

/** The closest candidate by edit distance, for "did you mean". */
function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

/**
 * Turns one file value into what the flag would have produced on the command line: through the
 * option's own parser, so `ofPort: "abc"` fails exactly like `--of-port abc` does.
 */
function convert(file: string, key: string, target: KeyTarget, value: unknown): unknown {
  const { option, invert } = target;
  const flag = option.long ?? option.flags;
  const fail = (why: string): never => {
    throw new ConfigError(
      `config file ${file}: key "${key}": ${why}. Fix the value in the file, or override it with ${flag} or ${envVarFor(option) ?? 'the flag'}.`,
      file,
      key,
    );
  };
  if (value === null || value === undefined) fail('has no value; give one or remove the key');
  if (takesNoValue(option)) {
    if (typeof value !== 'boolean') fail(`expected true or false, got ${JSON.stringify(value)}`);
    // A negated flag's attribute holds the positive sense (`progress` for --no-progress).
    return invert ? !value : value;
  }
  const many = option.variadic || Array.isArray(option.defaultValue);
  // A list flag of key=value items (--port-capacity s1-eth2=8mbit) may be written as a mapping.
  const items = Array.isArray(value) ? value : many && isPlain(value) ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`) : [value];
  if (Array.isArray(value) && !many) fail(`expected one value, got a list`);
  let acc: unknown = many ? option.defaultValue : undefined;
  for (const item of items) {
    if (option.optional && item === true) {
      acc = option.presetArg ?? true;
      continue;
    }
    if (typeof item !== 'string' && typeof item !== 'number') fail(`expected a ${option.parseArg ? 'number or string' : 'string'}, got ${isPlain(item) ? 'a mapping' : JSON.stringify(item)}`);
    const text = String(item);
    if (option.parseArg) {
      try {
        acc = option.parseArg(text, acc);
      } catch (err) {
        fail(`${JSON.stringify(item)} is not valid for ${flag}: ${(err as Error).message}`);
      }
    } else {
      acc = many ? [...(Array.isArray(acc) ? acc : []), text] : text;
    }
  }
  return acc;
}

/** One command's values from the file: its section over the top level, checked and converted. */
interface FileValues {
  readonly values: Map<Option, { value: unknown; key: string }>;
}

/**
 * Checks the whole file against the whole program (a typo in another command's section is still a
 * typo) and returns what it says for `cmd`.
 */
export function valuesFromFile(program: Command, file: string, doc: Plain, cmd: Command): FileValues {
  const everyCommand: Command[] = [];
  const walk = (c: Command): void => {
    for (const sub of c.commands) {
      everyCommand.push(sub);
      walk(sub);
    }
  };
  walk(program);
  // A top-level flag key is fine when some command has that flag.
  const anyFlag = new Map<string, KeyTarget[]>();
  for (const c of everyCommand) {
    for (const [k, t] of keyTargets(c)) anyFlag.set(k, [...(anyFlag.get(k) ?? []), t]);
  }

  const checkSection = (section: Plain, owner: Command, prefix: string, topLevel: boolean): void => {
    const subs = childCommands(owner);
    const own = keyTargets(owner);
    for (const [rawKey, value] of Object.entries(section)) {
      const key = `${prefix}${rawKey}`;
      const sub = subs.get(rawKey);
      if (sub) {
        if (value === null) continue; // an empty section
        if (!isPlain(value)) throw new ConfigError(`config file ${file}: key "${key}" is the ${commandPath(sub).join(' ')} section and must be a mapping of its flags.`, file, key);
        checkSection(value, sub, `${key}.`, false);
        continue;
      }
      const norm = normalizeKey(rawKey);
      const targets = topLevel ? anyFlag.get(norm) : own.has(norm) ? [own.get(norm) as KeyTarget] : undefined;
      if (!targets) {
        const known = topLevel ? [...anyFlag.keys(), ...subs.keys()] : [...own.keys(), ...subs.keys()];
        const hint = closest(norm, known);
        const where = topLevel ? 'a flag of any command, nor a command name' : `a flag of \`meshflow ${commandPath(owner).join(' ')}\``;
        throw new ConfigError(
          `config file ${file}: unknown key "${key}": not ${where}.${hint ? ` Did you mean "${prefix}${hint}"?` : ''} Keys are the flags that --help lists, in camelCase or kebab-case.`,
          file,
          key,
        );
      }
      for (const t of targets) convert(file, key, t, value);
    }
  };
  checkSection(doc, program, '', true);

  // Then the values for this command: top level first, its section (and its parents' sections) over it.
  const values = new Map<Option, { value: unknown; key: string }>();
  const own = keyTargets(cmd);
  const layers: { section: Plain; prefix: string }[] = [{ section: doc, prefix: '' }];
  let section: Plain | undefined = doc;
  let prefix = '';
  for (const name of commandPath(cmd)) {
    const next: unknown = section?.[name];
    section = isPlain(next) ? next : undefined;
    prefix = `${prefix}${name}.`;
    if (section) layers.push({ section, prefix });
  }
  for (const layer of layers) {
    for (const [rawKey, value] of Object.entries(layer.section)) {
      const target = own.get(normalizeKey(rawKey));
      if (!target) continue; // another command's flag or section: checked above
      const key = `${layer.prefix}${rawKey}`;
      values.set(target.option, { value: convert(file, key, target, value), key });
    }
  }
  return { values };
}

/** Where one option's value came from, as users say it. */
export type Origin = 'flag' | 'env' | 'file' | 'default' | 'unset';

export interface ResolvedOption {
  readonly flag: string;
  readonly env?: string;
  readonly value: unknown;
  readonly from: Origin;
  /** The file key that gave the value, when from is 'file'. */
  readonly key?: string;
}

export interface Resolution {
  readonly command: Command;
  /** Absolute path of the config file in use, if any. */
  readonly file?: string;
  readonly options: Readonly<Record<string, ResolvedOption>>;
}

function originOf(source: OptionValueSource, value: unknown): Origin {
  switch (source) {
    case 'cli':
      return 'flag';
    case 'env':
      return 'env';
    case 'config':
      return 'file';
    case undefined:
      return value === undefined ? 'unset' : 'default';
    default:
      return 'default';
  }
}

/** Commands whose `--config` was added here (the sidecar has a `--config` of its own). */
const addedConfigOption = new WeakSet<Command>();
/** Mandatory options made optional so that the environment or the file may satisfy them. */
const deferredMandatory = new WeakMap<Command, Option[]>();

export interface ConfigHandle {
  /** What the command that ran was given, once its options are resolved (for error messages). */
  current(): Resolution | undefined;
}

/** commander only checks that a boolean flag's variable exists; here MESHFLOW_JSON=0 means false. */
const FALSY = new Set(['', '0', 'false', 'no', 'off']);

/**
 * Wires flag > env > file > default into every command of `program`. Call it after all commands
 * are registered and before parsing.
 */
export function applyConfig(program: Command): ConfigHandle {
  let resolution: Resolution | undefined;
  // Program options only before the command name: `meshflow --config f sidecar --config s.json`
  // keeps the sidecar's own --config its own.
  program.enablePositionalOptions();
  program.addOption(
    new Option('--config <file>', 'meshflow config file (YAML or JSON) with defaults for every command; see README "Configuration"').env(CONFIG_ENV),
  );
  const helpNote =
    `\nEvery flag can also be set as ${ENV_PREFIX}<FLAG> (--of-port: ${ENV_PREFIX}OF_PORT) or as a key\n` +
    `(ofPort or of-port) in the config file given by --config <file> or ${CONFIG_ENV}.\n` +
    `Order: flag > environment > config file > default. Exit codes: 0 ok, 1 failed,\n` +
    `2 bad flag or config, 3 port in use, no permission or a server out of reach.`;
  program.addHelpText('after', helpNote);

  // Usage errors throw instead of exiting, so main.ts picks the exit code (2) in one place.
  program.exitOverride();
  const wire = (cmd: Command): void => {
    cmd.exitOverride();
    for (const option of cmd.options) {
      if (!isConfigurable(option)) continue;
      if (option.envVar === undefined) {
        const name = envVarFor(option);
        if (name) option.env(name);
      }
      if (option.mandatory) {
        option.makeOptionMandatory(false);
        deferredMandatory.set(cmd, [...(deferredMandatory.get(cmd) ?? []), option]);
      }
    }
    if (!cmd.options.some((o) => o.attributeName() === 'config')) {
      cmd.option('--config <file>', `meshflow config file (YAML or JSON); also ${CONFIG_ENV}`);
      addedConfigOption.add(cmd);
    }
    cmd.addOption(new Option('--print-config', 'print the resolved options and where each came from, then exit').hideHelp());
    cmd.addHelpText('after', helpNote);
    for (const sub of cmd.commands) wire(sub);
  };
  for (const cmd of program.commands) wire(cmd);

  program.hook('preAction', (_root, actionCommand) => {
    resolution = resolveCommand(program, actionCommand);
    if (actionCommand.getOptionValue('printConfig') === true) {
      process.stdout.write(`${JSON.stringify(printable(resolution), null, 2)}\n`);
      process.exit(0);
    }
  });
  return { current: () => resolution };
}

/** The config file for `cmd`: its own --config, then the program's (which also reads MESHFLOW_CONFIG). */
function configFileFor(program: Command, cmd: Command): string | undefined {
  const local = addedConfigOption.has(cmd) ? cmd.getOptionValue('config') : undefined;
  const global = program.getOptionValue('config');
  const file = typeof local === 'string' ? local : typeof global === 'string' ? global : undefined;
  return file === undefined || file === '' ? undefined : file;
}

/**
 * Applies MESHFLOW_<FLAG> to options still on their default. commander binds its own environment
 * handling when an option is added, before applyConfig can name the variable, so Option.env() here
 * only documents it (help shows "env: …") and the value is applied here, through the option's parser.
 */
function applyEnv(cmd: Command): void {
  for (const option of cmd.options) {
    const name = option.attributeName();
    const variable = option.envVar;
    if (!isConfigurable(option) || variable === undefined || !(variable in process.env)) continue;
    const source = cmd.getOptionValueSource(name);
    if (source === 'cli') continue;
    const raw = process.env[variable] ?? '';
    if (takesNoValue(option)) {
      // commander counts a set variable as "on"; MESHFLOW_JSON=0 should mean off.
      const on = !FALSY.has(raw.trim().toLowerCase());
      cmd.setOptionValueWithSource(name, option.negate ? !on : on, 'env');
      continue;
    }
    if (source === 'env') continue; // commander already applied a variable the command declared itself
    let value: unknown = raw;
    if (option.parseArg) {
      try {
        value = option.parseArg(raw, Array.isArray(option.defaultValue) ? option.defaultValue : undefined);
      } catch (err) {
        cmd.error(`error: ${variable}=${JSON.stringify(raw)} is not valid for ${option.long ?? option.flags}: ${(err as Error).message}. Fix or unset the variable.`, {
          exitCode: 2,
          code: 'commander.invalidArgument',
        });
      }
    }
    cmd.setOptionValueWithSource(name, value, 'env');
  }
}

/**
 * Completes `cmd`'s options after commander parsed the flags: the environment, then the config
 * file for what is still a default, then the mandatory check.
 */
export function resolveCommand(program: Command, cmd: Command): Resolution {
  applyEnv(cmd);
  const file = configFileFor(program, cmd);
  const fromFile = new Map<Option, { value: unknown; key: string }>();
  if (file !== undefined) {
    for (const [o, v] of valuesFromFile(program, file, readConfigFile(file), cmd).values) fromFile.set(o, v);
  }
  const options: Record<string, ResolvedOption> = {};
  for (const option of cmd.options) {
    if (!isConfigurable(option)) continue;
    const name = option.attributeName();
    const source = cmd.getOptionValueSource(name);
    const given = fromFile.get(option);
    if (given !== undefined && (source === undefined || source === 'default' || source === 'implied')) {
      cmd.setOptionValueWithSource(name, given.value, 'config');
    }
    const now = cmd.getOptionValueSource(name);
    const value: unknown = cmd.getOptionValue(name);
    options[name] = {
      flag: option.long ?? option.flags,
      ...(option.envVar === undefined ? {} : { env: option.envVar }),
      value,
      from: originOf(now, value),
      ...(now === 'config' && given ? { key: given.key } : {}),
    };
  }
  for (const option of deferredMandatory.get(cmd) ?? []) {
    if (cmd.getOptionValue(option.attributeName()) === undefined) {
      cmd.error(`error: required option '${option.flags}' not specified (nor ${option.envVar ?? 'its variable'}, nor a config file key)`, {
        exitCode: 2,
        code: 'commander.missingMandatoryOptionValue',
      });
    }
  }
  return { command: cmd, ...(file === undefined ? {} : { file: resolvePath(file) }), options };
}

/** Secrets stay out of terminals and CI logs. */
const SECRET = /token|password|secret/i;

function printable(r: Resolution): unknown {
  const options: Record<string, ResolvedOption> = {};
  for (const [name, o] of Object.entries(r.options)) {
    if (SECRET.test(name) && o.value !== undefined) options[name] = { ...o, value: '***' };
    else if (typeof o.value === 'string') options[name] = { ...o, value: o.value.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@') };
    else options[name] = o;
  }
  return { command: commandPath(r.command).join(' '), ...(r.file === undefined ? {} : { file: r.file }), options };
}
