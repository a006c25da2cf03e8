import type { Socket } from 'node:net';

/** A server reply; code 0 means there was none because the connection is gone (text says why). */
export interface Reply {
  code: number;
  /** The reply's lines without their codes, joined by "\n". */
  text: string;
}

/**
 * Reads the replies of one connection in order. Replies the caller has not asked for
 * yet wait in a queue (a pipelined batch answers several commands at once); when the
 * connection ends, every pending and later request gets a code-0 reply.
 */
export class ReplyReader {
  private partial = '';
  private lines: string[] = [];
  private readonly ready: Reply[] = [];
  private readonly waiting: Array<(reply: Reply) => void> = [];
  private goneReason: string | undefined;
  private detachFrom: (() => void) | undefined;

  get gone(): boolean {
    return this.goneReason !== undefined;
  }

  /** Reads from `socket` from now on (after STARTTLS, from the TLS socket instead). */
  attach(socket: Socket): void {
    this.detachFrom?.();
    const onData = (chunk: string) => this.read(chunk);
    const onError = (error: Error) => this.end(error.message);
    const onClose = () => this.end('the server closed the connection');
    socket.setEncoding('latin1');
    socket.on('data', onData).on('error', onError).on('close', onClose);
    this.detachFrom = () => {
      socket.off('data', onData).off('error', onError).off('close', onClose);
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

  end(reason: string): void {
    this.goneReason ??= reason;
    for (const resolve of this.waiting.splice(0)) resolve({ code: 0, text: this.goneReason });
  }

  private read(chunk: string): void {
    this.partial += chunk;
    for (let end = this.partial.indexOf('\n'); end !== -1; end = this.partial.indexOf('\n')) {
      const line = this.partial.slice(0, end).replace(/\r$/, '');
      this.partial = this.partial.slice(end + 1);
      if (!/^\d{3}(?:[ -]|$)/.test(line)) {
        this.end(`the server sent something that is not an SMTP reply: ${line.slice(0, 80)}`);
        return;
      }
      this.lines.push(line.slice(4));
      if (line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
      this.lines = [];
      const resolve = this.waiting.shift();
      if (resolve === undefined) this.ready.push(reply);
      else resolve(reply);
    }
  }
}
