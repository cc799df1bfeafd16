/** The task types Elasticsearch knows (TaskType), `any` included. */
export const TASK_TYPES = new Set(['text_embedding', 'sparse_embedding', 'rerank', 'completion', 'chat_completion', 'embedding', 'any']);

export type Route =
  | { action: 'list'; taskType: string | null }
  | { action: 'endpoint'; taskType: string | null; inferenceId: string } // GET / PUT / DELETE / POST (infer)
  | { action: 'stream'; taskType: string | null; inferenceId: string };

export interface Matched {
  route: Route;
  /** Methods this path answers. */
  allowed: readonly string[];
}

const LIST = ['GET'] as const;
const ENDPOINT = ['GET', 'PUT', 'POST', 'DELETE'] as const;
const STREAM = ['POST'] as const;

/**
 * Matches `/_inference/…` paths (segments already decoded). Null for any other path.
 * A task type that is not one is reported by the caller (Elasticsearch: 400 "Unknown task_type").
 */
export function matchRoute(pathname: string): Matched | 'not_found' | null {
  if (pathname !== '/_inference' && !pathname.startsWith('/_inference/')) return null;
  let segments: string[];
  try {
    segments = pathname.split('/').slice(2).filter((p) => p !== '').map((p) => decodeURIComponent(p));
  } catch {
    return 'not_found';
  }
  const [a, b, c] = segments;
  switch (segments.length) {
    case 0:
      return { route: { action: 'list', taskType: null }, allowed: LIST };
    case 1:
      if (a === '_all') return { route: { action: 'list', taskType: null }, allowed: LIST };
      return { route: { action: 'endpoint', taskType: null, inferenceId: a! }, allowed: ENDPOINT };
    case 2:
      if (b === '_stream') return { route: { action: 'stream', taskType: null, inferenceId: a! }, allowed: STREAM };
      if (b === '_all') return { route: { action: 'list', taskType: a! }, allowed: LIST };
      return { route: { action: 'endpoint', taskType: a!, inferenceId: b! }, allowed: ENDPOINT };
    case 3:
      if (c === '_stream') return { route: { action: 'stream', taskType: a!, inferenceId: b! }, allowed: STREAM };
      return 'not_found';
    default:
      return 'not_found';
  }
}
