/**
 * The chaos run's entry point: like a Kubernetes Service in front of an ingress, it routes by
 * path prefix to the ready instances of a service, spreads requests over them (round robin),
 * and sends a request to another instance when the chosen one refuses the connection (the
 * request never reached it, so this is safe for POST too). Readiness is polled, as a kubelet
 * probes /health/ready; a refused connection takes an instance out at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  service: string;
  prefixes: string[];
  port: number;
}

interface Instance extends Upstream {
  ready: boolean;
}

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export class EntryPoint {
  private readonly instances: Instance[];
  private readonly next = new Map<string, number>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private server: http.Server | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Requests that found no ready instance, or failed on every instance. */
  unavailable = 0;
  failovers = 0;

  constructor(upstreams: Upstream[]) {
    this.instances = upstreams.map((u) => ({ ...u, ready: false }));
  }

  async start(port = 0): Promise<string> {
    await this.probe();
    this.probeTimer = setInterval(() => void this.probe(), 500);
    this.server = http.createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    clearInterval(this.probeTimer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    this.agent.destroy();
  }

  readyPorts(service: string): number[] {
    return this.instances.filter((i) => i.service === service && i.ready).map((i) => i.port);
  }

  private async probe(): Promise<void> {
    await Promise.all(
      this.instances.map(async (instance) => {
        try {
          const response = await fetch(`http://127.0.0.1:${instance.port}/health/ready`, { signal: AbortSignal.timeout(2_500) });
          instance.ready = response.ok;
          await response.body?.cancel();
        } catch {
          instance.ready = false;
        }
      }),
    );
  }

  /** Ready instances of the service owning the path, starting at the next in round robin. */
  private candidates(path: string): Instance[] {
    const owner = this.instances.find((i) => i.prefixes.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`)));
    if (!owner) return [];
    const all = this.instances.filter((i) => i.service === owner.service && i.ready);
    const start = this.next.get(owner.service) ?? 0;
    this.next.set(owner.service, start + 1);
    return all.map((_, k) => all[(start + k) % all.length]!);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const candidates = this.candidates(req.url ?? '/');
    for (const [n, instance] of candidates.entries()) {
      const outcome = await this.forward(instance, req, body, res);
      if (outcome === 'done') return;
      // Refused: the instance is down (killed); take it out until the next probe says otherwise.
      instance.ready = false;
      if (n + 1 < candidates.length) this.failovers += 1;
    }
    this.unavailable += 1;
    if (!res.headersSent) {
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'No ready instance.' }));
    } else res.destroy();
  }

  private forward(instance: Instance, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<'done' | 'refused'> {
    return new Promise((resolve) => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !hopByHop.has(k)));
      const upstream = http.request(
        { host: '127.0.0.1', port: instance.port, method: req.method, path: req.url, headers: { ...headers, 'content-length': String(body.length) }, agent: this.agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !hopByHop.has(k))));
          answer.pipe(res);
          answer.on('end', () => resolve('done'));
          answer.on('error', () => {
            res.destroy();
            resolve('done');
          });
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        // Not connected at all: safe to try another instance. Anything later (a reset after the
        // request was sent) is answered as it would be by a real proxy: the client sees a failure.
        if (error.code === 'ECONNREFUSED') return resolve('refused');
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: error.message }));
        } else res.destroy();
        resolve('done');
      });
      upstream.end(body);
    });
  }
}
