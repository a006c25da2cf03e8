import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real IMAP server for tests: Debian's Dovecot, started in the foreground with a
 * config of its own in a temporary folder (a passwd-file user, maildirs in that
 * folder, plaintext login on loopback only, no TLS), on a free loopback port.
 */
export const DOVECOT_PATH = '/usr/sbin/dovecot';

export function dovecotSkipReason(): string | undefined {
  return existsSync(DOVECOT_PATH) ? undefined : `${DOVECOT_PATH} is absent (apt-get install dovecot-imapd)`;
}

export interface Dovecot {
  /** INBOUND_IMAP_URL for the program under test. */
  url: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Who owns the mailboxes. Dovecot refuses mail access as root, so as root they belong
 * to its own system user; otherwise Dovecot runs entirely as the current user.
 */
function mailOwner(): { uid: number; gid: number; settings: string[] } {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'dovecot']).toString().trim());
    return { uid: id('-u'), gid: id('-g'), settings: [] };
  }
  const name = os.userInfo().username;
  return { uid, gid: process.getgid?.() ?? uid, settings: [`default_internal_user = ${name}`, `default_login_user = ${name}`] };
}

export async function startDovecot(): Promise<Dovecot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fd-dovecot-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const user = 'inbound';
  const password = 'inbound-test-password';
  const owner = mailOwner();
  const mailDir = path.join(dir, 'mail');
  await mkdir(mailDir);
  await writeFile(path.join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
  await chown(mailDir, owner.uid, owner.gid);
  const config = [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    'protocols = imap',
    'listen = 127.0.0.1',
    'ssl = no',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    'first_valid_uid = 1',
    'first_valid_gid = 1',
    ...owner.settings,
    `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}`,
    `userdb {\n  driver = static\n  args = uid=${owner.uid} gid=${owner.gid} home=${mailDir}/%u\n}`,
    'mail_location = maildir:~/Maildir',
    `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
    'service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n}',
    'service submission-login {\n  inet_listener submission {\n    port = 0\n  }\n}',
    'service imap-urlauth-login {\n  unix_listener imap-urlauth {\n  }\n}',
  ].join('\n');
  await writeFile(path.join(dir, 'dovecot.conf'), `${config}\n`);

  const child = spawn(DOVECOT_PATH, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; !(await accepting(port)); i++) {
    if (exited || i > 300) {
      const log = await readFile(path.join(dir, 'dovecot.log'), 'utf8').catch(() => '');
      child.kill('SIGKILL');
      throw new Error(`dovecot did not start: ${stderr}${log}`);
    }
    await sleep(50);
  }
  return {
    url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`,
    port,
    user,
    password,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
