import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The lock that keeps a PGlite data folder to one process. PGlite has none of its
 * own, and two processes opening one folder corrupt it silently (lost rows,
 * duplicate keys), so every direct opener takes `feed-digest.lock` first.
 *
 * The lock file appears whole or not at all: it is written under a private name
 * and then hard-linked into place, and link() fails with EEXIST when another
 * process got there first, so of two processes starting at once exactly one wins.
 * A lock whose process is gone (killed, crashed) is stale and is cleared, under a
 * second short-lived `.break` lock so that two processes clearing the same stale
 * lock cannot delete the fresh lock the other one just took.
 */

export interface LockHolder {
  pid: number;
  /** The kernel's start time of pid (Linux), so that a reused pid is not taken for the holder. */
  pidStart: string | null;
  hostname: string;
  /** What the holder runs, for the message a refused process prints. */
  command: string;
  /** Directory of the Unix socket when the holder serves the database to other processes. */
  socketDir: string | null;
  since: string;
}

export interface DataLock {
  holder: LockHolder;
  release(): Promise<void>;
}

/** Socket file names inside a serving process's socket directory; listed here so a stale lock's leftovers can be removed. */
export const SOCKET_PORT = 5432;
export const publicSocketName = `.s.PGSQL.${SOCKET_PORT}`;
export const internalSocketName = 'pglite.sock';

const lockName = 'feed-digest.lock';
const attempts = 50;

function processStart(pid: number): string | null {
  try {
    // Field 22 of /proc/PID/stat, counted after the command name, which may hold spaces and
    // parentheses. Synchronous: a /proc read is instant and keeps isAlive a plain predicate.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null; // not Linux, or no such process
  }
}

export function isAlive(holder: LockHolder): boolean {
  // Another machine's pid means nothing here: a folder on shared storage stays locked.
  if (holder.hostname !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(holder.pid);
  return holder.pidStart === null || start === null || start === holder.pidStart;
}

export function commandLine(): string {
  const script = process.argv[1] !== undefined ? path.basename(process.argv[1]) : 'node';
  return [script, ...process.argv.slice(2)].join(' ').slice(0, 80);
}

/** Why this process cannot use the folder, in one line. */
export function busyMessage(dataDir: string, holder: LockHolder): string {
  const where = holder.hostname === os.hostname() ? '' : ` on host ${holder.hostname}`;
  if (holder.socketDir !== null) {
    return `the data folder ${dataDir} is already served by process ${holder.pid}${where} (${holder.command}); stop it first`;
  }
  return `the data folder ${dataDir} is in use by process ${holder.pid}${where} (${holder.command}) and it does not serve a socket; wait for it or stop it`;
}

async function readHolder(file: string): Promise<{ raw: string; holder: LockHolder | null } | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return { raw, holder: JSON.parse(raw) as LockHolder };
  } catch {
    // Lock files appear whole (see above): one that does not parse was damaged and guards nothing.
    return { raw, holder: null };
  }
}

async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** A killed server leaves its socket files behind; listening again on them would fail. */
export async function removeSocketFiles(socketDir: string): Promise<void> {
  await removeQuietly(path.join(socketDir, publicSocketName));
  await removeQuietly(path.join(socketDir, internalSocketName));
  await rmdir(socketDir).catch(() => undefined);
}

async function clearStaleLock(lockFile: string, staleRaw: string, stale: LockHolder | null): Promise<void> {
  const breaker = `${lockFile}.break`;
  let handle;
  try {
    handle = await open(breaker, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const other = await readHolder(breaker);
    // A breaker's holder died inside its few-millisecond critical section: take it over.
    if (other?.holder && !isAlive(other.holder)) await removeQuietly(breaker);
    else await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    await handle.writeFile(JSON.stringify(ownHolder(null)));
    await handle.close();
    if ((await readHolder(lockFile))?.raw === staleRaw) {
      await unlink(lockFile);
      if (stale?.socketDir) await removeSocketFiles(stale.socketDir);
    }
  } finally {
    await removeQuietly(breaker);
  }
}

function ownHolder(socketDir: string | null, command = commandLine()): LockHolder {
  return {
    pid: process.pid,
    pidStart: processStart(process.pid),
    hostname: os.hostname(),
    command,
    socketDir,
    since: new Date().toISOString(),
  };
}

/**
 * Takes the folder's lock, or returns the live process that holds it.
 * socketDir is recorded for a process that will serve the database over a socket.
 */
export async function acquireDataLock(
  dataDir: string,
  options: { socketDir: string | null; command?: string },
): Promise<DataLock | { heldBy: LockHolder }> {
  const lockFile = path.join(dataDir, lockName);
  const holder = ownHolder(options.socketDir, options.command);
  const content = JSON.stringify(holder);
  const draft = path.join(dataDir, `${lockName}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(draft, content, { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await link(draft, lockFile);
        return { holder, release: () => releaseLock(lockFile, content) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = await readHolder(lockFile);
      if (found === undefined) continue;
      if (found.holder && isAlive(found.holder)) return { heldBy: found.holder };
      await clearStaleLock(lockFile, found.raw, found.holder);
    }
    throw new Error(`could not take the lock ${lockFile} after ${attempts} attempts`);
  } finally {
    await removeQuietly(draft);
  }
}

async function releaseLock(lockFile: string, content: string): Promise<void> {
  // Only our own lock: never delete one that a later process took.
  if ((await readHolder(lockFile))?.raw === content) await removeQuietly(lockFile);
}
