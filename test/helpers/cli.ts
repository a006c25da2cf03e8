import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

/** The real CLI in child processes, for tests: long-running (startCli) or to completion (runCli). */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Whether this test runs compiled, from dist/ (npm test builds it first), or from the
 * sources through tsx (`node --import tsx --test test/x.test.ts`). Child processes run
 * the same way: compiled, a CLI call starts in about half the CPU time.
 */
const compiled = import.meta.url.endsWith('.js');
/** Absolute, so that commands also run from other working folders. */
const tsxLoader = import.meta.resolve('tsx');

/** `node` arguments that run the project's file `relative` (a .ts path) the way this test runs. */
export function nodeArgs(relative: string): string[] {
  if (compiled) return [path.join(projectRoot, 'dist', relative.replace(/\.ts$/, '.js'))];
  return ['--import', tsxLoader, path.join(projectRoot, relative)];
}

/**
 * `node` arguments that start the CLI the way this test runs: the bundle that `npm run build`
 * makes (what the package's bin runs), or the sources through tsx.
 */
export function cliArgs(): string[] {
  return compiled ? [path.join(projectRoot, 'dist/cli/feed-digest.js')] : nodeArgs('src/cli/main.ts');
}

export interface Cli {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
  /** Resolves when a line of stderr (the JSON log) includes `text`. */
  logged(text: string): Promise<void>;
  /** Everything written to stderr so far. */
  log(): string;
}

const children = new Set<ChildProcess>();

/** `feed-digest <args>` as an operator runs it, with only the given settings. */
export function startCli(args: string[], env: Record<string, string>, cwd = projectRoot): Cli {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  let stdout = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const check of listeners) check();
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    children.delete(child);
    for (const check of listeners) check();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stderr, stdout };
  });
  return {
    child,
    exited,
    log: () => stderr,
    logged: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stderr.includes(text)) {
            listeners.delete(check);
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            reject(new Error(`feed-digest ${args.join(' ')} exited before logging "${text}":\n${stderr}`));
          }
        };
        listeners.add(check);
        check();
      }),
  };
}

/** For after(): no child outlives its test file. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Runs `feed-digest ARGS` to its end. */
export async function runCli(args: string[], env: Record<string, string>, cwd = projectRoot): Promise<CliResult> {
  const { code, stdout, stderr } = await startCli(args, env, cwd).exited;
  return { code, stdout, stderr };
}
