import type { Server } from 'node:http';
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
