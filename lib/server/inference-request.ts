import { contentParseError, validationFailed, type InferenceError } from '../errors.js';

/** Fields Elasticsearch's InferenceAction.Request parser declares. */
const FIELDS = new Set(['input', 'input_type', 'task_settings', 'query', 'return_documents', 'top_n', 'timeout']);
const PARSER = 'cluster:internal/xpack/inference';

export interface InferenceBody {
  /** Null when absent; validated later, as Elasticsearch validates after parsing. */
  input: string[] | null;
  taskSettings: Record<string, unknown>;
  timeout: string | undefined;
}

function parseError(reason: string): InferenceError {
  return contentParseError(`[${PARSER}] ${reason}`);
}

/** Parsing, as Elasticsearch's ObjectParser does it: failures here are plain JSON 400s. */
export function parseInferenceBody(body: unknown): InferenceBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw parseError('request body must be a JSON object');
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!FIELDS.has(key)) throw parseError(`unknown field [${key}]`);
  let input: string[] | null = null;
  const raw = fields.input;
  if (typeof raw === 'string') input = [raw];
  else if (Array.isArray(raw)) {
    if (!raw.every((v) => typeof v === 'string')) throw parseError('failed to parse field [input]: expected strings');
    input = raw;
  } else if (raw !== undefined && raw !== null)
    throw parseError('failed to parse field [input]: expected a string or an array of strings');
  const ts = fields.task_settings;
  if (ts !== undefined && (typeof ts !== 'object' || ts === null || Array.isArray(ts))) {
    throw parseError('failed to parse field [task_settings]: expected an object');
  }
  const timeout = fields.timeout;
  if (timeout !== undefined && typeof timeout !== 'string')
    throw parseError('failed to parse field [timeout]: expected a time value string');
  return { input, taskSettings: (ts as Record<string, unknown> | undefined) ?? {}, timeout };
}

function validation(message: string): InferenceError {
  return validationFailed([message]);
}

/** Request.validate(): runs after parsing, so on `_stream` it is reported as an event. */
export function validateInput(input: string[] | null): string[] {
  if (input === null) throw validation('Field [input] cannot be null');
  if (input.length === 0) throw validation('Field [input] cannot be an empty array');
  if (input.some((s) => s.length === 0)) throw validation('Field [input] cannot contain an empty string');
  return input;
}

/** `completion` takes one input (the API documentation's rule; Elasticsearch's code does not check it). */
export function singleInput(input: string[], taskType: string): string {
  if (input.length > 1) {
    throw validation(
      `Field [input] must contain exactly one string for task type [${taskType}], got [${input.length}]`,
    );
  }
  return input[0]!;
}
