import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

export interface SinkRequest {
  path: string;
  method: string;
  idempotencyKey: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  /** The client went away before an answer (an aborted or killed request). */
  aborted: boolean;
}

type Behaviour = (req: SinkRequest, res: ServerResponse) => void | Promise<void>;

/**
 * A local HTTP receiver for `http` steps: records every request with its Idempotency-Key and answers
 * as each path is told to (default 200 with a JSON echo); `hold` keeps requests open until released.
 */
export class HttpSink {
  readonly requests: SinkRequest[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly held: (() => void)[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.releaseAll();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  /** Requests to `path` wait until `releaseAll()`, then get 200. */
  hold(path: string): this {
    return this.on(path, async (_req, res) => {
      await new Promise<void>((resolve) => this.held.push(resolve));
      if (!res.destroyed) reply(res, 200, { held: true });
    });
  }

  /** Answers `failures` requests with `status`, then 200. */
  failFirst(path: string, failures: number, status = 503): this {
    let seen = 0;
    return this.on(path, (_req, res) => (seen++ < failures ? reply(res, status, { seen }) : reply(res, 200, { seen })));
  }

  releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }

  to(path: string): SinkRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  countByKey(key: string): number {
    return this.requests.filter((r) => r.idempotencyKey === key).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').split('?')[0];
    const record: SinkRequest = {
      path,
      method: req.method ?? 'GET',
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      aborted: false,
    };
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    this.requests.push(record);
    const behaviour = this.behaviours.get(path) ?? ((r, response) => reply(response, 200, { echo: r.body }));
    await behaviour(record, res);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
