import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import { createInferenceHandler, type InferenceHandlerOptions, type InferenceHandler } from '../../lib/index.js';
import { parseEsEvents as sseEvents } from '../helpers/streams.js';

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, a free port. */
export async function listen(server: Server): Promise<Listening> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The handler under plain node:http. */
export async function handlerServer(
  options: InferenceHandlerOptions = {},
): Promise<Listening & { handler: InferenceHandler }> {
  const handler = createInferenceHandler(options);
  const listening = await listen(createServer((req, res) => handler(req, res)));
  return { ...listening, handler };
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeProvider extends Listening {
  requests: CapturedRequest[];
}

/** A provider stand-in: records each request, then `respond` writes the answer. */
export async function fakeProvider(
  respond: (req: CapturedRequest, res: ServerResponse) => void | Promise<void>,
): Promise<FakeProvider> {
  const requests: CapturedRequest[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const b of req) body += b;
    const captured = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    requests.push(captured);
    await respond(captured, res);
  });
  return { ...(await listen(server)), requests };
}

/** Writes the chunks as separate socket writes, each waiting for the previous to be flushed. */
export async function writeChunks(res: ServerResponse, chunks: readonly Buffer[]): Promise<void> {
  for (const c of chunks) {
    if (c.length === 0) continue;
    await new Promise<void>((resolve, reject) => res.write(c, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

export interface HttpResult {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request, the whole answer. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const req = httpRequest(new URL(path, base), {
    method,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
  req.end(payload);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return { status: res.statusCode ?? 0, headers: res.headers, body: text };
}

/** Elasticsearch SSE text to events (a leading U+FEFF per event tolerated). */
export { sseEvents };

/** Answer text of the message events; the error body of a final error event. */
export function readStream(text: string): {
  text: string;
  done: boolean;
  error: { type: string; reason: string; status: number } | null;
} {
  let answer = '';
  let done = false;
  let error = null;
  for (const e of sseEvents(text)) {
    if (e.event === 'error') {
      const body = JSON.parse(e.data);
      error = { type: body.error.type, reason: body.error.reason, status: body.status };
    } else if (e.data === '[DONE]') done = true;
    else for (const d of JSON.parse(e.data).completion) answer += d.delta;
  }
  return { text: answer, done, error };
}

let serviceAccount: string | null = null;

/** A throwaway service account JSON with a real RSA key (generated once per run). */
export function testServiceAccount(): string {
  if (serviceAccount === null) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    serviceAccount = JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: 'k1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'tester@test-project.iam.gserviceaccount.com',
      token_uri: 'https://oauth2.googleapis.com/token',
    });
  }
  return serviceAccount;
}

/** service_settings that satisfy each service, pointed at `url`. */
export function settingsFor(service: string, url: string): Record<string, unknown> {
  switch (service) {
    case 'openai':
      return { api_key: 'sk-test-secret', model_id: 'gpt-4o-mini', url };
    case 'azureopenai':
      return { api_key: 'az-test-secret', resource_name: 'res', deployment_id: 'dep', api_version: '2024-10-21', url };
    case 'azureaistudio':
      return { api_key: 'aas-test-secret', target: url, provider: 'mistral', endpoint_type: 'token' };
    case 'anthropic':
      return { api_key: 'sk-ant-test-secret', model_id: 'claude-sonnet-4-5', url };
    case 'cohere':
      return { api_key: 'co-test-secret', model_id: 'command-r', url };
    case 'googleaistudio':
      return { api_key: 'goog-test-secret', model_id: 'gemini-2.0-flash', url };
    case 'googlevertexai':
      return {
        service_account_json: testServiceAccount(),
        project_id: 'test-project',
        location: 'us-central1',
        model_id: 'gemini-2.0-flash',
        url,
      };
    case 'watsonxai':
      return {
        api_key: 'wx-test-secret',
        url,
        api_version: '2024-05-02',
        model_id: 'ibm/granite-13b-chat-v2',
        project_id: 'p1',
      };
    case 'hugging_face':
      return { api_key: 'hf_test_secret', url };
    case 'amazonbedrock':
      return {
        access_key: 'AKIDTEST',
        secret_key: 'bedrock-test-secret',
        region: 'us-east-1',
        model: 'anthropic.claude-3-haiku-20240307-v1:0',
        provider: 'anthropic',
        url,
      };
    case 'mistral':
      return { api_key: 'mis-test-secret', model: 'mistral-small-latest', url };
    case 'deepseek':
      return { api_key: 'ds-test-secret', model_id: 'deepseek-chat', url };
    case 'alibabacloud':
      return { api_key: 'ali-test-secret', model_id: 'qwen-plus', url };
    case 'ollama':
      return { model_id: 'llama3.2', url };
    default:
      throw new Error(`no test settings for ${service}`);
  }
}

/** Every secret used in settingsFor, to check none leaks. */
export const TEST_SECRETS = [
  'sk-test-secret',
  'az-test-secret',
  'aas-test-secret',
  'sk-ant-test-secret',
  'co-test-secret',
  'goog-test-secret',
  'wx-test-secret',
  'hf_test_secret',
  'bedrock-test-secret',
  'mis-test-secret',
  'ds-test-secret',
  'ali-test-secret',
  'PRIVATE KEY',
];
