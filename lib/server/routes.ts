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

/** A route prepared for matching: each segment a set of literals or a parameter name; the methods it answers. */
interface CompiledRoute {
  segments: readonly (ReadonlySet<string> | string)[];
  methods: Readonly<Partial<Record<string, Action>>>;
  allowed: readonly string[];
}

/** Each table prepared once. */
const compiled = new WeakMap<readonly RouteSpec[], { routes: CompiledRoute[]; longest: number }>();

function compile(routes: readonly RouteSpec[]): { routes: CompiledRoute[]; longest: number } {
  let table = compiled.get(routes);
  if (table === undefined) {
    const list = routes.map((r) => ({
      segments: r.pattern.map((p) => (p.startsWith('{') ? p.slice(1, -1) : new Set(p.split('|')))),
      methods: r.methods,
      allowed: Object.freeze(Object.keys(r.methods)),
    }));
    table = { routes: list, longest: Math.max(0, ...routes.map((r) => r.pattern.length)) };
    compiled.set(routes, table);
  }
  return table;
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
  if (!pathname.startsWith('/_inference') || (pathname.length > 11 && pathname.charCodeAt(11) !== 0x2f)) return null;
  const table = compile(routes);
  // the non-empty segments after `/_inference`, decoded; more than any pattern has is no route
  const segments: string[] = [];
  for (let start = 12; start < pathname.length;) {
    let end = pathname.indexOf('/', start);
    if (end < 0) end = pathname.length;
    if (end > start) {
      if (segments.length === table.longest) return 'not_found';
      let segment = pathname.slice(start, end);
      if (segment.includes('%')) {
        try {
          segment = decodeURIComponent(segment);
        } catch {
          return 'not_found';
        }
      }
      segments.push(segment);
    }
    start = end + 1;
  }
  for (const route of table.routes) {
    if (route.segments.length !== segments.length) continue;
    let taskType: string | null = null;
    let inferenceId: string | null = null;
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const p = route.segments[i]!;
      const s = segments[i]!;
      if (typeof p !== 'string') ok = p.has(s);
      else if (LITERALS.has(s))
        ok = false; // `_stream`, `_all`, `*` are never ids
      else if (p === 'task_type') taskType = s;
      else if (p === 'inference_id') inferenceId = s;
    }
    if (!ok) continue;
    return { action: route.methods[method] ?? null, taskType, inferenceId, allowed: route.allowed };
  }
  return 'not_found';
}
/** Literal segments the table reserves (`_stream`, `_all`, `*`…): never taken as an id or a task type. A task-type literal (`chat_completion`) stays a valid task type elsewhere. */
const LITERALS = new Set(
  ROUTES.flatMap((r) => r.pattern.flatMap((p) => (p.startsWith('{') ? [] : p.split('|')))).filter(
    (l) => l.startsWith('_') || l === '*',
  ),
);
