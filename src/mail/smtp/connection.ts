import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { domainToASCII } from 'node:url';
import type { SmtpEndpoint } from '../../config/smtp-url.js';
import { smtpData } from './data.js';
import { ReplyReader, type Reply } from './replies.js';

/** How long to wait for a connection and the server's greeting. */
const CONNECT_TIMEOUT_MS = 15_000;
/** How long a started transaction may wait for any reply. */
const REPLY_TIMEOUT_MS = 60_000;

/**
 * The outcome of one transaction: the reply that decided it, the step it answered
 * (a refused sender is no fault of the recipient), and whether the message's bytes went out.
 */
export interface TransactionResult extends Reply {
  step: 'sender' | 'recipient' | 'message';
  dataSent: boolean;
}

/**
 * One SMTP client connection (RFC 5321): greeting, EHLO, STARTTLS, AUTH PLAIN or
 * LOGIN, then transactions with the envelope pipelined (RFC 2920) when the server
 * allows it. Failures are replies, never exceptions; code 0 means the connection
 * itself failed.
 */
export class SmtpConnection {
  private constructor(
    private socket: net.Socket,
    private readonly replies: ReplyReader,
    private readonly extensions: Map<string, string>,
  ) {}

  private usable = true;

  /** False once the connection is gone or the server said it is closing it (421). */
  get alive(): boolean {
    return this.usable && !this.replies.gone;
  }

  static async open(endpoint: SmtpEndpoint): Promise<SmtpConnection | Reply> {
    const replies = new ReplyReader();
    const socket = await connectSocket(endpoint, replies);
    if (!(socket instanceof net.Socket)) return socket;
    const greeting = await replies.next();
    const failed = (reply: Reply) => {
      socket.destroy();
      return reply;
    };
    if (greeting.code !== 220) return failed(greeting);
    socket.setTimeout(REPLY_TIMEOUT_MS);
    const connection = new SmtpConnection(socket, replies, new Map());
    const hello = await connection.hello();
    if (hello.code !== 250) return failed(hello);
    const secured = await connection.secure(endpoint);
    if (secured !== undefined) return failed(secured);
    const login = await connection.login(endpoint);
    if (login !== undefined) return failed(login);
    connection.socket.setTimeout(0);
    return connection;
  }

  /** Sends one message to one recipient. */
  async send(sender: string, recipient: string, message: readonly Buffer[]): Promise<TransactionResult> {
    const [from, to] = [envelopeAddress(sender), envelopeAddress(recipient)];
    const data = smtpData(message);
    const size = data.reduce((total, chunk) => total + chunk.length, 0);
    const maxSize = Number(this.extensions.get('SIZE') || 0);
    if (maxSize > 0 && size > maxSize) {
      return { code: 552, text: `the message is ${size} bytes and the server takes at most ${maxSize}`, step: 'message', dataSent: false };
    }
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (/[\x00-\x20<>\x7f]/.test(from + to)) {
      return { code: 501, text: 'an address with spaces, angle brackets or control characters cannot be sent', step: 'recipient', dataSent: false };
    }
    const international = /[^\x20-\x7e]/.test(from + to);
    if (international && !this.extensions.has('SMTPUTF8')) {
      return { code: 553, text: 'the server does not accept addresses with non-ASCII characters (no SMTPUTF8)', step: 'recipient', dataSent: false };
    }
    const parameters = `${maxSize > 0 ? ` SIZE=${size}` : ''}${international ? ' SMTPUTF8' : ''}`;
    this.socket.setTimeout(REPLY_TIMEOUT_MS);
    try {
      const envelope = await this.envelope([`MAIL FROM:<${from}>${parameters}`, `RCPT TO:<${to}>`, 'DATA']);
      const refusedAt = envelope.findIndex((reply, index) => reply.code !== (index < 2 ? 250 : 354) && !(index === 1 && reply.code === 251));
      if (refusedAt === -1) {
        this.socket.cork();
        for (const chunk of data) this.socket.write(chunk);
        this.socket.uncork();
        return this.settle({ ...(await this.replies.next()), step: 'message', dataSent: true });
      }
      // A server that took DATA although the envelope failed waits for the data: an empty one.
      if (envelope[2]?.code === 354) await this.command('.');
      const refused = envelope[refusedAt]!;
      if (refused.code !== 0 && refused.code !== 421) await this.command('RSET');
      return this.settle({ ...refused, step: refusedAt === 0 ? 'sender' : refusedAt === 1 ? 'recipient' : 'message', dataSent: false });
    } finally {
      this.socket.setTimeout(0);
    }
  }

  async close(): Promise<void> {
    if (this.alive) {
      this.socket.setTimeout(CONNECT_TIMEOUT_MS);
      await this.command('QUIT');
    }
    this.replies.detach();
    this.socket.destroy();
  }

  private settle(result: TransactionResult): TransactionResult {
    if (result.code === 0 || result.code === 421 || this.replies.gone) this.usable = false;
    return result;
  }

  private command(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.replies.next();
  }

  /** With PIPELINING all commands go out in one write; without, each waits for the last reply and a refusal stops the rest. */
  private async envelope(commands: string[]): Promise<Reply[]> {
    if (this.extensions.has('PIPELINING')) {
      this.socket.write(`${commands.join('\r\n')}\r\n`);
      return Promise.all(commands.map(() => this.replies.next()));
    }
    const replies: Reply[] = [];
    for (const line of commands) {
      const reply = await this.command(line);
      replies.push(reply);
      if (reply.code >= 400 || reply.code === 0) break;
    }
    return replies;
  }

  private async hello(): Promise<Reply> {
    const name = clientName();
    const ehlo = await this.command(`EHLO ${name}`);
    this.extensions.clear();
    if (ehlo.code !== 250) return ehlo.code >= 500 ? this.command(`HELO ${name}`) : ehlo;
    for (const line of ehlo.text.split('\n').slice(1)) {
      const [keyword = '', ...rest] = line.trim().split(/\s+/);
      this.extensions.set(keyword.toUpperCase(), rest.join(' '));
    }
    return ehlo;
  }

  /** Upgrades to TLS when the server offers STARTTLS; undefined means the connection may be used. */
  private async secure(endpoint: SmtpEndpoint): Promise<Reply | undefined> {
    if (endpoint.implicitTls) return undefined;
    if (!this.extensions.has('STARTTLS')) {
      return endpoint.requireTls ? { code: 0, text: 'the server does not offer STARTTLS, and requireTLS is set' } : undefined;
    }
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return reply;
    this.replies.detach();
    // From here the TLS socket keeps time; the one beneath must not time out while idle.
    this.socket.setTimeout(0);
    const upgraded = await connectSocket(endpoint, this.replies, this.socket);
    if (!(upgraded instanceof net.Socket)) return upgraded;
    this.socket = upgraded;
    upgraded.setTimeout(REPLY_TIMEOUT_MS);
    const hello = await this.hello();
    return hello.code === 250 ? undefined : hello;
  }

  private async login(endpoint: SmtpEndpoint): Promise<Reply | undefined> {
    if (endpoint.user === undefined) return undefined;
    const user = endpoint.user;
    const password = endpoint.password ?? '';
    const methods = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    let reply: Reply;
    if (methods.includes('PLAIN')) {
      reply = await this.command(`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`);
    } else if (methods.includes('LOGIN')) {
      reply = await this.command('AUTH LOGIN');
      if (reply.code === 334) reply = await this.command(base64(user));
      if (reply.code === 334) reply = await this.command(base64(password));
    } else {
      return { code: 0, text: `the server offers no login method we know (PLAIN, LOGIN); it offers: ${methods.join(' ') || 'none'}` };
    }
    return reply.code === 235 ? undefined : reply;
  }
}

/**
 * Connects (or, given `plain`, upgrades that socket to TLS) and hands the socket to
 * `replies`. A failure comes back as a code-0 reply naming the cause.
 */
function connectSocket(endpoint: SmtpEndpoint, replies: ReplyReader, plain?: net.Socket): Promise<net.Socket | Reply> {
  const useTls = endpoint.implicitTls || plain !== undefined;
  const socket = useTls
    ? tls.connect({
        ...(plain === undefined ? { host: endpoint.host, port: endpoint.port } : { socket: plain }),
        servername: net.isIP(endpoint.host) === 0 ? endpoint.host : undefined,
        rejectUnauthorized: endpoint.verifyCertificate,
      })
    : net.connect({ host: endpoint.host, port: endpoint.port });
  socket.setTimeout(CONNECT_TIMEOUT_MS);
  socket.on('timeout', () => socket.destroy(new Error(`the server did not answer within ${(socket.timeout ?? 0) / 1000} s`)));
  return new Promise((resolve) => {
    const fail = (error: Error) => {
      socket.destroy();
      resolve({ code: 0, text: `${endpoint.host}:${endpoint.port}: ${error.message}` });
    };
    socket.once('error', fail);
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      socket.off('error', fail);
      replies.attach(socket);
      resolve(socket);
    });
  });
}

/**
 * The domain in the form every server takes (lower case, punycode for an international
 * name), as nodemailer sends it; the local part is the mailbox's own business.
 */
function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at === -1) return address;
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1)) || address.slice(at + 1)}`;
}

/** The name we give in EHLO: this machine's if it is a full domain name, as RFC 5321 asks, else an address literal. */
function clientName(): string {
  const host = os.hostname();
  return host.includes('.') ? host : '[127.0.0.1]';
}
