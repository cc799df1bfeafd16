/** The task types Elasticsearch knows (TaskType), `any` included. */
export const TASK_TYPES = new Set([
  'text_embedding',
  'sparse_embedding',
  'rerank',
  'completion',
  'chat_completion',
  'embedding',
  'any',
]);

/** What a request asks for; each has one function in the handler's action table. */
export type Action = 'list' | 'get' | 'put' | 'update' | 'delete' | 'infer' | 'stream' | 'chat';

/** One row of the routing table: a path pattern under `/_inference` and the action of each method. */
export interface RouteSpec {
  /**
   * Segments after `/_inference`: a literal (`_stream`), alternatives (`_all|*`), or a
   * parameter (`{task_type}`, `{inference_id}`).
   */
  pattern: readonly string[];
  methods: Readonly<Partial<Record<string, Action>>>;
}

const LIST = { GET: 'list' } as const;
const ENDPOINT = { GET: 'get', PUT: 'put', POST: 'infer', DELETE: 'delete' } as const;

/**
 * Elasticsearch's inference routes. The first pattern that matches the path wins, so
 * literals come before parameters in the same position. New routes (another task's
 * `_stream`) are one more row.
 */
export const ROUTES: readonly RouteSpec[] = [
  { pattern: [], methods: LIST },
  { pattern: ['_all|*'], methods: LIST },
  { pattern: ['{inference_id}'], methods: ENDPOINT },
  { pattern: ['{inference_id}', '_stream'], methods: { POST: 'stream' } },
  { pattern: ['{inference_id}', '_update'], methods: { PUT: 'update' } },
  // Elasticsearch's unified API: an OpenAI-style chat request, chat.completion.chunk events
  { pattern: ['chat_completion', '{inference_id}', '_stream'], methods: { POST: 'chat' } },
  { pattern: ['{task_type}', '_all|*'], methods: LIST },
  { pattern: ['{task_type}', '{inference_id}'], methods: ENDPOINT },
  { pattern: ['{task_type}', '{inference_id}', '_stream'], methods: { POST: 'stream' } },
  { pattern: ['{task_type}', '{inference_id}', '_update'], methods: { PUT: 'update' } },
];

export interface Matched {
  /** Null when the path exists but not for this method (405). */
  action: Action | null;
  taskType: string | null;
  inferenceId: string | null;
  /** Methods this path answers. */
  allowed: readonly string[];
}

/**
 * Matches `/_inference/…` paths (segments percent-decoded) against the table. Null for a
 * path outside `/_inference`; 'not_found' for one inside that no route takes.
 */
export function matchRoute(
  pathname: string,
  method: string,
  routes: readonly RouteSpec[] = ROUTES,
): Matched | 'not_found' | null {
  if (pathname !== '/_inference' && !pathname.startsWith('/_inference/')) return null;
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .slice(2)
      .filter((p) => p !== '')
      .map((p) => decodeURIComponent(p));
  } catch {
    return 'not_found';
  }
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (params === null) continue;
    return {
      action: route.methods[method] ?? null,
      taskType: params.task_type ?? null,
      inferenceId: params.inference_id ?? null,
      allowed: Object.keys(route.methods),
    };
  }
  return 'not_found';
}

function matchPattern(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith('{')) {
      if (LITERALS.has(s)) return null; // `_stream`, `_all`, `*` are never ids
      params[p.slice(1, -1)] = s;
    } else if (!p.split('|').includes(s)) return null;
  }
  return params;
}

/** Literal segments the table reserves (`_stream`, `_all`, `*`…): never taken as an id or a task type. A task-type literal (`chat_completion`) stays a valid task type elsewhere. */
const LITERALS = new Set(
  ROUTES.flatMap((r) => r.pattern.flatMap((p) => (p.startsWith('{') ? [] : p.split('|')))).filter(
    (l) => l.startsWith('_') || l === '*',
  ),
);
