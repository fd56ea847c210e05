import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts an emulator's server and resolves to its endpoint URL, e.g. `http://127.0.0.1:40123`. */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

/** Stops it without waiting for SDK keep-alive sockets to time out. */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}

/**
 * An emulator's HTTP server: subclasses answer requests in `serve`, and get `listen`/`close` with the
 * semantics above. Errors escaping `serve` would be unhandled rejections, so `serve` must answer them itself.
 */
export abstract class HttpEmulator {
  protected readonly server: Server = createServer((request, response) => {
    void this.serve(request, response);
  });

  /** Resolves to the endpoint URL; SDK configs take its host as `endpoint` and `http` as `protocol`. */
  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return listenOn(this.server, port, host);
  }

  /** Safe to call twice, or before listen. */
  close(): Promise<void> {
    return closeServer(this.server);
  }

  protected abstract serve(request: IncomingMessage, response: ServerResponse): Promise<void>;
}
