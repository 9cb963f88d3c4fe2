import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { freePort } from './processes.js';

type State = 'up' | 'paused' | 'down';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy in front of PostgreSQL or Redis that a fault test controls:
 *
 * - `pause()`: connections stay open but no byte goes through either way, and new connections are accepted
 *   and held without being forwarded, as when a server stalls (a stopped process, a full disk, a lost route);
 * - `down()`: every connection is reset, and so is each new one at once (counted in `refused`), as when
 *   the server is gone;
 * - `up()`: back to forwarding (paused connections go on where they stopped; new ones connect).
 */
export class FaultProxy {
  readonly url: string;
  private state: State = 'up';
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private readonly held: Socket[] = [];
  /** Connections reset on arrival while down: how often clients tried to reach the server. */
  refused = 0;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
    url: string,
  ) {
    this.url = url;
  }

  /** A proxy to the server of `targetUrl` (postgres:// or redis://); `url` is the same URL through the proxy. */
  static async start(targetUrl: string): Promise<FaultProxy> {
    const target = new URL(targetUrl);
    const port = await freePort();
    const auth = target.username ? `${target.username}${target.password ? `:${target.password}` : ''}@` : '';
    const proxy = new FaultProxy(
      port,
      { host: target.hostname, port: Number(target.port || (target.protocol.startsWith('redis') ? 6379 : 5432)) },
      `${target.protocol}//${auth}127.0.0.1:${port}${target.pathname}${target.search}`,
    );
    await proxy.listen();
    return proxy;
  }

  get status(): State {
    return this.state;
  }

  /** Open client connections (forwarded or held). */
  get connections(): number {
    return this.pairs.size + this.held.length;
  }

  pause(): void {
    this.state = 'paused';
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async down(): Promise<void> {
    this.state = 'down';
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
    for (const socket of this.held.splice(0)) socket.resetAndDestroy();
  }

  async up(): Promise<void> {
    this.state = 'up';
    for (const pair of this.pairs) {
      pair.client.pipe(pair.upstream);
      pair.upstream.pipe(pair.client);
      pair.client.resume();
      pair.upstream.resume();
    }
    for (const socket of this.held.splice(0)) this.forward(socket);
  }

  async stop(): Promise<void> {
    await this.down();
    await this.close();
  }

  private async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.state === 'down') {
      this.refused++;
      socket.resetAndDestroy();
      return;
    }
    if (this.state === 'paused') {
      socket.pause();
      this.held.push(socket);
      socket.once('close', () => {
        const at = this.held.indexOf(socket);
        if (at >= 0) this.held.splice(at, 1);
      });
      return;
    }
    this.forward(socket);
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', drop);
    upstream.once('close', drop);
    if (this.state === 'paused') {
      client.pause();
      upstream.pause();
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
