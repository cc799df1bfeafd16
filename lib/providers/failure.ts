import { upstreamStatusError, type InferenceError } from '../errors.js';

/** Response headers as Node and undici give them (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What a provider's failure wording may look at: the upstream status, its headers, the request URL. */
export interface FailureContext {
  status: number;
  headers: ResponseHeaders;
  /** The request URL (query values that are credentials removed); `null` when unknown, as Elasticsearch prints it. */
  url: string | null;
  /** The provider's own message from a JSON error body, if there was one. */
  message: string | undefined;
}

/** Elasticsearch's phrase for a failed status and, where it differs from the mapped status, the REST status. */
export interface FailureWording {
  phrase: string;
  restStatus?: number;
}

/** How one provider words a failed HTTP status (Elasticsearch's response handler for that service). */
export type FailureWords = (ctx: FailureContext) => FailureWording;

// Elasticsearch's BaseResponseHandler phrases.
export const SERVER_ERROR = 'Received a server error status code';
export const RATE_LIMIT = 'Received a rate limit status code';
export const AUTHENTICATION = 'Received an authentication error status code';
export const PERMISSION_DENIED = 'Received a permission denied error status code';
export const REDIRECTION = 'Unhandled redirection';
export const CONTENT_TOO_LARGE = 'Received a content too large status code';
export const UNSUCCESSFUL = 'Received an unsuccessful status code';
export const BAD_REQUEST = 'Received a bad request status code';
const SERVER_BUSY = 'Received a server busy error status code';
const VALIDATION_ERROR = 'Received an input validation error response';

function header(headers: ResponseHeaders, name: string): string {
  const v = headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined || first === '' ? 'unknown' : first;
}

const isRedirect = (s: number) => s >= 300 && s < 400;
const notFound = (ctx: FailureContext) => `Resource not found at [${ctx.url}]`;

/** The wording most of Elasticsearch's handlers share: server error, rate limit, authentication, redirection, else unsuccessful. */
export const defaultWords: FailureWords = ({ status }) => {
  if (status >= 500) return { phrase: SERVER_ERROR };
  if (status === 429) return { phrase: RATE_LIMIT };
  if (status === 401) return { phrase: AUTHENTICATION };
  if (isRedirect(status)) return { phrase: REDIRECTION };
  return { phrase: UNSUCCESSFUL };
};

/** OpenAI's 429: the `x-ratelimit-*` and `retry-after` headers, `unknown` when absent. */
function openAiRateLimit(h: ResponseHeaders): string {
  return (
    `${RATE_LIMIT}. Token limit [${header(h, 'x-ratelimit-limit-tokens')}], remaining tokens [${header(h, 'x-ratelimit-remaining-tokens')}], ` +
    `tokens reset [${header(h, 'x-ratelimit-reset-tokens')}]. Request limit [${header(h, 'x-ratelimit-limit-requests')}], ` +
    `remaining requests [${header(h, 'x-ratelimit-remaining-requests')}], request reset [${header(h, 'x-ratelimit-reset-requests')}]. ` +
    `Retry after [${header(h, 'retry-after')}]`
  );
}

const CONTEXT_TOO_LONG = 'Please reduce your prompt; or completion length.';
const contentTooLarge = (ctx: FailureContext) =>
  ctx.status === 413 || (ctx.status === 400 && ctx.message !== undefined && ctx.message.includes(CONTEXT_TOO_LONG));

/** OpenAI (and the services Elasticsearch reads with its handler: DeepSeek). */
export const openAiWords: FailureWords = (ctx) => {
  const s = ctx.status;
  if (s === 503) return { phrase: SERVER_BUSY };
  if (s >= 500) return { phrase: SERVER_ERROR };
  if (s === 429) return { phrase: openAiRateLimit(ctx.headers) };
  if (contentTooLarge(ctx)) return { phrase: CONTENT_TOO_LARGE, restStatus: 413 };
  if (s === 401) return { phrase: AUTHENTICATION };
  if (isRedirect(s)) return { phrase: REDIRECTION };
  if (s === 422) return { phrase: VALIDATION_ERROR };
  if (s === 400) return { phrase: BAD_REQUEST };
  if (s === 404) return { phrase: notFound(ctx) };
  return { phrase: UNSUCCESSFUL };
};

/** Azure OpenAI: OpenAI's, with the two rate-limit headers Azure sends. */
export const azureOpenAiWords: FailureWords = (ctx) => {
  if (ctx.status === 429) {
    const h = ctx.headers;
    return {
      phrase: `${RATE_LIMIT}. Remaining tokens [${header(h, 'x-ratelimit-remaining-tokens')}]. Remaining requests [${header(h, 'x-ratelimit-remaining-requests')}].`,
    };
  }
  return openAiWords(ctx);
};

/** Azure AI Studio and Mistral (Elasticsearch's shared Azure/Mistral handler). */
export const azureMistralWords: FailureWords = (ctx) => {
  const s = ctx.status;
  if (s === 503) return { phrase: SERVER_BUSY };
  if (s >= 500) return { phrase: SERVER_ERROR };
  if (s === 429) {
    const h = ctx.headers;
    const tokenLimit = header(h, 'x-ratelimit-limit-tokens');
    const requestLimit = header(h, 'x-ratelimit-limit-requests');
    const remaining = `remaining tokens [${header(h, 'x-ratelimit-remaining-tokens')}]`;
    const remainingRequests = `remaining requests [${header(h, 'x-ratelimit-remaining-requests')}]`;
    if (tokenLimit === 'unknown' && requestLimit === 'unknown') {
      return {
        phrase: `${RATE_LIMIT}. Remaining tokens [${header(h, 'x-ratelimit-remaining-tokens')}]. Remaining requests [${header(h, 'x-ratelimit-remaining-requests')}].`,
      };
    }
    return {
      phrase: `${RATE_LIMIT}. Token limit [${tokenLimit}], ${remaining}. Request limit [${requestLimit}], ${remainingRequests}`,
    };
  }
  if (contentTooLarge(ctx)) return { phrase: CONTENT_TOO_LARGE, restStatus: 413 };
  if (s === 401) return { phrase: AUTHENTICATION };
  if (isRedirect(s)) return { phrase: REDIRECTION };
  return { phrase: UNSUCCESSFUL };
};

/** Anthropic: 529 is its overload status; the 429 names its `anthropic-ratelimit-*` headers. */
export const anthropicWords: FailureWords = (ctx) => {
  const s = ctx.status;
  if (s === 529) return { phrase: 'Received an Anthropic server is temporarily overloaded status code' };
  if (s >= 500) return { phrase: SERVER_ERROR };
  if (s === 429) {
    const h = ctx.headers;
    return {
      phrase:
        `${RATE_LIMIT}. Token limit [${header(h, 'anthropic-ratelimit-tokens-limit')}], remaining tokens [${header(h, 'anthropic-ratelimit-tokens-remaining')}], ` +
        `tokens reset [${header(h, 'anthropic-ratelimit-tokens-reset')}]. Request limit [${header(h, 'anthropic-ratelimit-requests-limit')}], ` +
        `remaining requests [${header(h, 'anthropic-ratelimit-requests-remaining')}], request reset [${header(h, 'anthropic-ratelimit-requests-reset')}]. ` +
        `Retry after [${header(h, 'retry-after')}]`,
    };
  }
  if (s === 403) return { phrase: PERMISSION_DENIED };
  if (s === 401) return { phrase: AUTHENTICATION };
  if (isRedirect(s)) return { phrase: REDIRECTION };
  return { phrase: UNSUCCESSFUL };
};

/** Google AI Studio and Vertex AI: 503 says the service may be overloaded; 404 names the URL. */
export function googleWords(service: string): FailureWords {
  return (ctx) => {
    const s = ctx.status;
    if (s === 503) return { phrase: `The ${service} service may be temporarily overloaded or down` };
    if (s >= 500) return { phrase: SERVER_ERROR };
    if (s === 429) return { phrase: RATE_LIMIT };
    if (s === 404) return { phrase: notFound(ctx) };
    if (s === 403) return { phrase: PERMISSION_DENIED };
    if (isRedirect(s)) return { phrase: REDIRECTION };
    return { phrase: UNSUCCESSFUL };
  };
}

/** Cohere: a 400 about too many texts has its own words; 503 is the default server error. */
export const cohereWords: FailureWords = (ctx) => {
  if (
    ctx.status === 400 &&
    ctx.message !== undefined &&
    ctx.message.includes('total number of texts must be at most')
  ) {
    return { phrase: 'Received a texts array too large response' };
  }
  return defaultWords(ctx);
};

/** Hugging Face: 502 and 503 are its rate-limit answers. */
export const huggingFaceWords: FailureWords = (ctx) => {
  const s = ctx.status;
  if (s === 502 || s === 503 || s === 429) return { phrase: RATE_LIMIT };
  if (s >= 500) return { phrase: SERVER_ERROR };
  if (s === 413) return { phrase: CONTENT_TOO_LARGE };
  return defaultWords(ctx);
};

/** IBM watsonx. */
export const watsonxWords: FailureWords = (ctx) => {
  const s = ctx.status;
  if (s === 500) return { phrase: SERVER_ERROR };
  if (s === 404) return { phrase: notFound(ctx) };
  if (s === 403) return { phrase: PERMISSION_DENIED };
  if (s === 401) return { phrase: AUTHENTICATION };
  if (s === 400) return { phrase: BAD_REQUEST };
  if (isRedirect(s)) return { phrase: REDIRECTION };
  return { phrase: UNSUCCESSFUL };
};

/** A request URL fit for an error message: the values of query parameters that carry keys are removed. */
export function printableUrl(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url);
    for (const name of [...u.searchParams.keys()]) {
      if (/key|token|sig|secret|auth/i.test(name)) u.searchParams.set(name, '[REDACTED]');
    }
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return null;
  }
}

/**
 * One error for a non-2xx provider answer, in Elasticsearch's words for that provider:
 * `<phrase> for request from inference entity id [<id>] status [<s>]`, with
 * `. Error message: [<provider message>]` when the body was JSON that carried one.
 */
export function providerStatusError(
  words: FailureWords,
  ctx: FailureContext,
  inferenceId: string | undefined,
): InferenceError {
  const { phrase, restStatus } = words(ctx);
  return upstreamStatusError(ctx.status, ctx.message, inferenceId, phrase, restStatus);
}
