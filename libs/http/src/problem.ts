/** RFC 9457 problem details; every error response of every service has this shape. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export const problemContentType = 'application/problem+json';

const typeUri = (slug: string): string => `https://arch.homework/problems/${slug}`;

/** Thrown by routes and domain adapters; the error handler turns it into a problem response. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: typeUri(this.slug),
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }

  static badRequest(detail: string, extensions?: Record<string, unknown>): HttpProblem {
    return new HttpProblem(400, 'invalid-request', 'Invalid request', detail, extensions);
  }
  static unauthorized(detail: string): HttpProblem {
    return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail);
  }
  static notFound(detail: string): HttpProblem {
    return new HttpProblem(404, 'not-found', 'Not found', detail);
  }
  static conflict(slug: string, title: string, detail: string, extensions?: Record<string, unknown>): HttpProblem {
    return new HttpProblem(409, slug, title, detail, extensions);
  }
  /** 503 with Retry-After: the service is refusing new work for now; the client should come back. */
  static overloaded(detail: string, retryAfterSeconds: number): HttpProblem {
    const problem = new HttpProblem(503, 'overloaded', 'Service overloaded', detail, { retryAfterSeconds });
    problem.retryAfterSeconds = retryAfterSeconds;
    return problem;
  }

  /** 429 with Retry-After: a rate limit refused the request. */
  static tooManyRequests(detail: string, retryAfterSeconds: number): HttpProblem {
    const problem = new HttpProblem(429, 'rate-limited', 'Too many requests', detail, { retryAfterSeconds });
    problem.retryAfterSeconds = retryAfterSeconds;
    return problem;
  }

  /** Sent as the Retry-After header when set. */
  retryAfterSeconds: number | undefined;
}

/** The schema of problem responses, for the OpenAPI document. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
} as const;
