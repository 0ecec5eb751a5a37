/**
 * A real grid with the master's HTTP API on: the declarative test grid (master and agents as
 * processes), the master started with `--http 127.0.0.1:0`, and small fetch helpers.
 */
import { DeclarativeGrid } from '../../declarative/support/declarative-grid.js';

export { gridSpec } from '../../declarative/support/declarative-grid.js';

/** A JSON or problem answer. */
export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly contentType: string;
  readonly body: T;
  readonly headers: Headers;
}

/** A {@link DeclarativeGrid} whose master also serves HTTP. */
export class HttpGrid extends DeclarativeGrid {
  http = '';

  /** Starts the master with `--http 127.0.0.1:0` (plus `extraArgs`) and learns its HTTP address. */
  async startHttpMaster(extraArgs: readonly string[] = []): Promise<string> {
    const master = await this.startMaster(undefined, ['--http', '127.0.0.1:0', ...extraArgs]);
    const m = await master.waitForLog(/master HTTP API listening on http:\/\/([^\s"]+)/);
    this.http = `http://${m[1]!}`;
    return this.http;
  }

  /** `GET /api/grid/<path>` (or any method with a body). */
  async call<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<Answer<T>> {
    const res = await fetch(`${this.http}/api/grid/${path}`, init);
    const contentType = res.headers.get('content-type') ?? '';
    const text = await res.text();
    const body = (contentType.includes('json') && text !== '' ? JSON.parse(text) : text) as T;
    return { status: res.status, contentType, body, headers: res.headers };
  }

  /** `POST /api/grid/<path>` with a JSON body. */
  post<T = Record<string, unknown>>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    return this.call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }

  /** `POST /api/grid/<path>` with a YAML body. */
  postYaml<T = Record<string, unknown>>(path: string, yaml: string): Promise<Answer<T>> {
    return this.call<T>(path, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
  }

  /** `GET /metrics` as text. */
  async metricsText(headers: Record<string, string> = {}): Promise<string> {
    const res = await fetch(`${this.http}/metrics`, { headers });
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
    return res.text();
  }
}

/** A problem body's fields as tests assert them. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly field?: string;
  readonly grpcCode: string;
  readonly diagnostics?: Array<{ pointer: string; line?: number; message: string }>;
}
