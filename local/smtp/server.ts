import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/**
 * A local SMTP server standing in for DirectMail: plain SMTP (no TLS locally), AUTH PLAIN/LOGIN with a test
 * password when `auth` is set, and every accepted mail parsed with mailparser and kept.
 */

export interface LocalSmtpOptions {
  /** Require AUTH with these credentials; without it, AUTH is not offered. */
  auth?: { user: string; password: string };
}

/** A reply to force at a stage, for the next session that reaches it, e.g. `{ stage: 'data', responseCode: 451 }`. */
export interface SmtpFault {
  stage: 'connect' | 'data';
  responseCode: number;
  message?: string;
}

export interface ReceivedMail {
  envelope: { from: string | undefined; to: string[] };
  /** The authenticated user, if any. */
  user: string | undefined;
  receivedAt: Date;
  raw: string;
  mail: ParsedMail;
}

const replyError = (fault: SmtpFault): Error =>
  Object.assign(new Error(fault.message ?? `forced ${fault.responseCode}`), {
    responseCode: fault.responseCode,
  });

export class LocalSmtpServer {
  private readonly server: SMTPServer;
  private readonly received: ReceivedMail[] = [];
  private readonly faults: SmtpFault[] = [];

  constructor(options: LocalSmtpOptions = {}) {
    const { auth } = options;
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !auth,
      allowInsecureAuth: true,
      logger: false,
      // A reverse DNS lookup per connection only slows local runs down.
      disableReverseLookup: true,
      onConnect: (_session, callback) => callback(this.takeFault('connect')),
      onAuth: (credentials, _session, callback) => {
        if (auth && credentials.username === auth.user && credentials.password === auth.password) {
          callback(null, { user: auth.user });
        } else {
          callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
        }
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(
          () => callback(),
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  messages(): ReceivedMail[] {
    return [...this.received];
  }

  /** Queues forced replies; each applies once, to the next session reaching its stage. */
  inject(...faults: SmtpFault[]): void {
    this.faults.push(...faults);
  }

  private takeFault(stage: SmtpFault['stage']): Error | null {
    const index = this.faults.findIndex((fault) => fault.stage === stage);
    if (index < 0) return null;
    const [fault] = this.faults.splice(index, 1);
    return fault ? replyError(fault) : null;
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const fault = this.takeFault('data');
    if (fault) throw fault;
    const raw = Buffer.concat(chunks);
    const { mailFrom, rcptTo } = session.envelope;
    this.received.push({
      envelope: { from: mailFrom ? mailFrom.address : undefined, to: rcptTo.map((r) => r.address) },
      user: session.user,
      receivedAt: new Date(),
      raw: raw.toString('utf8'),
      mail: await simpleParser(raw),
    });
  }
}
