import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/**
 * An SMTP server that misbehaves on purpose, for the client's failure paths that a
 * well-behaved server (`smtp-server`) cannot produce: each connection runs the test's
 * script, which writes whatever bytes it likes and reads the client's lines.
 */
export interface HostileSession {
  /** Writes raw bytes to the client (over TLS once started). */
  write(bytes: string | Buffer): void;
  /** True once the client is gone. */
  readonly closed: boolean;
  /** The client's next line without its CRLF; undefined once the client is gone. */
  line(): Promise<string | undefined>;
  /** Takes the client's message up to the lone dot (unstuffed); undefined once the client is gone. */
  data(): Promise<string | undefined>;
  /** Starts TLS as the server (after the script has written its 220). */
  startTls(): Promise<void>;
  /**
   * Answers like an ordinary server from here on: EHLO with `extensions`, MAIL, RCPT,
   * DATA (the message is kept), AUTH (anything goes), RSET, NOOP, QUIT.
   */
  serve(extensions?: string[]): Promise<void>;
  destroy(): void;
}

export interface HostileMessage {
  from: string;
  to: string[];
  data: string;
  secure: boolean;
}

export interface HostileServer {
  port: number;
  /** Every line any client sent, in order (credentials included: tests look for them). */
  lines: string[];
  messages: HostileMessage[];
  close(): Promise<void>;
}

export interface Certificate {
  key: string;
  cert: string;
}

export async function startHostileServer(
  script: (session: HostileSession) => Promise<void>,
  options: { certificate?: Certificate } = {},
): Promise<HostileServer> {
  const lines: string[] = [];
  const messages: HostileMessage[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((plain) => {
    sockets.add(plain);
    plain.on('close', () => sockets.delete(plain));
    plain.on('error', () => {});
    const session = openSession(plain, options.certificate, lines, messages);
    script(session).catch(() => session.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function openSession(plain: net.Socket, certificate: Certificate | undefined, lines: string[], messages: HostileMessage[]): HostileSession {
  let socket: net.Socket = plain;
  let buffered = '';
  let closed = false;
  let wake: (() => void) | undefined;
  const listen = (from: net.Socket) => {
    from.setEncoding('latin1');
    from.on('data', (chunk: string) => {
      buffered += chunk;
      wake?.();
    });
    from.on('close', () => {
      closed = true;
      wake?.();
    });
    from.on('error', () => {});
  };
  listen(plain);
  const until = async <T>(take: () => T | undefined): Promise<T | undefined> => {
    for (;;) {
      const taken = take();
      if (taken !== undefined) return taken;
      if (closed) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const line = () =>
    until(() => {
      const end = buffered.indexOf('\r\n');
      if (end === -1) return undefined;
      const taken = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      lines.push(taken);
      return taken;
    });
  const data = () =>
    until(() => {
      const end = buffered.startsWith('.\r\n') ? 0 : buffered.indexOf('\r\n.\r\n');
      if (end === -1) return undefined;
      const taken = buffered.slice(0, end === 0 ? 0 : end + 2);
      buffered = buffered.slice(end === 0 ? 3 : end + 5);
      return taken.replace(/^\.\./gm, '.');
    });
  const session: HostileSession = {
    write: (bytes) => {
      if (!closed) socket.write(bytes);
    },
    get closed() {
      return closed;
    },
    line,
    data,
    async startTls() {
      if (certificate === undefined) throw new Error('startHostileServer needs a certificate for TLS');
      plain.removeAllListeners('data');
      buffered = '';
      const secured = new tls.TLSSocket(plain, { isServer: true, key: certificate.key, cert: certificate.cert });
      socket = secured;
      listen(secured);
      await new Promise<void>((resolve, reject) => {
        secured.once('secure', resolve);
        secured.once('error', reject);
      });
    },
    async serve(extensions = ['PIPELINING', '8BITMIME']) {
      let envelope: { from: string; to: string[] } = { from: '', to: [] };
      for (let command = await line(); command !== undefined; command = await line()) {
        const verb = command.slice(0, 4).toUpperCase();
        if (verb === 'EHLO')
          session.write(['hostile', ...extensions].map((text, i, all) => `250${i < all.length - 1 ? '-' : ' '}${text}\r\n`).join(''));
        else if (verb === 'MAIL') {
          envelope = { from: /<(.*)>/.exec(command)?.[1] ?? '', to: [] };
          session.write('250 sender ok\r\n');
        } else if (verb === 'RCPT') {
          envelope.to.push(/<(.*)>/.exec(command)?.[1] ?? '');
          session.write('250 recipient ok\r\n');
        } else if (verb === 'DATA') {
          session.write('354 go ahead\r\n');
          const message = await data();
          if (message === undefined) return;
          messages.push({ ...envelope, data: message, secure: socket !== plain });
          session.write('250 queued\r\n');
        } else if (verb === 'AUTH') {
          session.write('235 accepted\r\n');
        } else if (verb === 'QUIT') {
          session.write('221 bye\r\n');
          socket.end();
          return;
        } else session.write('250 ok\r\n');
      }
    },
    destroy: () => {
      socket.destroy();
      plain.destroy();
    },
  };
  return session;
}

/**
 * A self-signed certificate (also its own CA, to pass as trusted) naming `altNames`,
 * e.g. "DNS:localhost" or "IP:127.0.0.1", made by the openssl command.
 */
export function makeCertificate(altNames: string): Certificate {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'fd-cert-'));
  try {
    const [key, cert] = [path.join(folder, 'key.pem'), path.join(folder, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=feed-digest test',
        '-addext',
        `subjectAltName=${altNames}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
