/* The reply reader of our SMTP client (why not nodemailer's: see connection.ts). */
import type { Socket } from 'node:net';

/** A server reply; code 0 means there was none because the connection is gone (text says why). */
export interface Reply {
  code: number;
  /** The reply's lines without their codes, joined by "\n". */
  text: string;
}

/** The most one reply (all its lines) may hold, as nodemailer allows: real replies are a few hundred bytes. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * Reads the replies of one connection in order. Replies the caller has not asked for
 * yet wait in a queue (a pipelined batch answers several commands at once); when the
 * connection ends, every pending and later request gets a code-0 reply, and the
 * socket is destroyed.
 */
export class ReplyReader {
  private partial = '';
  private lines: string[] = [];
  private replyBytes = 0;
  private readonly ready: Reply[] = [];
  private readonly waiting: Array<(reply: Reply) => void> = [];
  private goneReason: string | undefined;
  private socket: Socket | undefined;
  private detachFrom: (() => void) | undefined;

  get gone(): boolean {
    return this.goneReason !== undefined;
  }

  /** Bytes arrived that no request has taken: whole replies or the start of one. */
  get unread(): boolean {
    return this.ready.length > 0 || this.partial !== '' || this.lines.length > 0;
  }

  /** Reads from `socket` from now on (after STARTTLS, from the TLS socket instead). */
  attach(socket: Socket): void {
    this.detachFrom?.();
    const onData = (chunk: string) => this.read(chunk);
    const onError = (error: Error) => this.end(error.message);
    const onClose = () => this.end('the server closed the connection');
    socket.setEncoding('latin1');
    socket.on('data', onData).on('error', onError).on('close', onClose);
    this.socket = socket;
    this.detachFrom = () => {
      socket.off('data', onData).off('error', onError).off('close', onClose);
      this.socket = undefined;
    };
  }

  /** Stops reading `socket` and stops treating its end as the connection's end. */
  detach(): void {
    this.detachFrom?.();
    this.detachFrom = undefined;
  }

  next(): Promise<Reply> {
    const reply = this.ready.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    if (this.goneReason !== undefined) return Promise.resolve({ code: 0, text: this.goneReason });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Ends the connection: the socket is destroyed, and every request now and later gets `reason`. */
  end(reason: string): void {
    this.goneReason ??= reason;
    this.partial = '';
    this.lines = [];
    this.socket?.destroy();
    for (const resolve of this.waiting.splice(0)) resolve({ code: 0, text: this.goneReason });
  }

  /** Only the new chunk is searched for line ends: a reply sent a byte at a time costs no rescans. */
  private read(chunk: string): void {
    if (this.goneReason !== undefined) return;
    let from = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', from)) {
      const line = this.partial + chunk.slice(from, end);
      this.partial = '';
      from = end + 1;
      if (!this.take(line.endsWith('\r') ? line.slice(0, -1) : line)) return;
    }
    this.partial += chunk.slice(from);
    if (this.replyBytes + this.partial.length > MAX_REPLY_BYTES) this.tooLong();
  }

  /** False when the line ended the connection. */
  private take(line: string): boolean {
    this.replyBytes += line.length;
    if (this.replyBytes > MAX_REPLY_BYTES) {
      this.tooLong();
      return false;
    }
    if (!/^\d{3}(?:[ -]|$)/.test(line)) {
      this.end(`the server sent something that is not an SMTP reply: ${line.slice(0, 80)}`);
      return false;
    }
    this.lines.push(line.slice(4));
    if (line[3] === '-') return true;
    const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
    this.lines = [];
    this.replyBytes = 0;
    const resolve = this.waiting.shift();
    if (resolve === undefined) this.ready.push(reply);
    else resolve(reply);
    return true;
  }

  private tooLong(): void {
    this.end(`the server's reply is longer than ${MAX_REPLY_BYTES} bytes: not an SMTP server we can talk to`);
  }
}
