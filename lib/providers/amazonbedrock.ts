import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { incompleteStream, malformedEvent } from '../errors.js';
import type { Frame } from '../framing/frame.js';
import { describe, parseEventJson } from './common.js';
import { isObject } from '../json.js';
import { defineProvider } from './define.js';
import { AnthropicState, anthropicEvent } from './dialects/anthropic-messages.js';
import { bedrockException, converseEvent } from './dialects/bedrock-converse.js';
import { ShapeCache } from './shape-cache.js';
import { mapSettings, modelOf, need, resolveUrl, text } from './settings.js';
import type { ChatInput, DeltaObject, EventNormalizer, ProviderRequest, RequestInput } from './types.js';
import { ToolCalls } from './tool-calls.js';
import { chatEndpoint, chatTarget } from './chat/target.js';
import { bedrockChatBody } from './chat/bedrock.js';
import type { StoredEndpoint } from '../registry/types.js';

const ID = 'amazonbedrock';

/**
 * Bedrock runtime event streams (binary AWS frames), told apart by their event names:
 * ConverseStream (`messageStart` … `messageStop`, `metadata`) or InvokeModelWithResponseStream
 * (`chunk` frames whose `bytes` are base64 of the model's own event JSON; read as Anthropic
 * Messages events, ended by `message_stop`). Exception frames are errors in either.
 */
class BedrockNormalizer implements EventNormalizer {
  private invoke = false;
  private converseDone = false;
  private readonly anthropic = new AnthropicState();
  private readonly tools = new ToolCalls();
  private readonly chunks = new ChunkReader();
  /** contentBlockDelta payloads repeat their envelope but for the text and the random padding `p`. */
  readonly envelopeCache = new ShapeCache('"text":', '"p":', true, ['"toolUse"']);

  frame(frame: Frame, out: DeltaObject[]): void {
    if (frame.exception) throw bedrockException(ID, frame);
    if (this.envelopeCache.take(frame, out)) return;
    const json = parseEventJson(frame);
    if (!isObject(json)) return;
    if (frame.event === 'chunk') {
      this.invoke = true;
      if (typeof json.bytes !== 'string') return;
      const inner = this.chunks.parse(json.bytes);
      if (isObject(inner)) anthropicEvent(ID, inner, '', out, this.anthropic);
      return;
    }
    const before = out.length;
    if (converseEvent(frame.event, json, out, this.tools)) this.converseDone = true;
    else this.envelopeCache.observe(frame, out, before);
  }

  end(_out: DeltaObject[]): void {
    if (this.invoke ? !this.anthropic.done : !this.converseDone) {
      throw incompleteStream(
        `The [${ID}] stream ended before its ${this.invoke ? 'message_stop' : 'messageStop'} event`,
      );
    }
  }
}

/** Largest decoded chunk kept in the reused buffer; a larger one gets its own. */
const CHUNK_SCRATCH_BYTES = 64 * 1024;

/**
 * The `bytes` of InvokeModelWithResponseStream chunks (base64 of the model's event JSON),
 * decoded into one buffer reused from chunk to chunk rather than a new Buffer per event.
 */
class ChunkReader {
  private scratch = Buffer.allocUnsafe(0);

  parse(base64: string): unknown {
    // at most 3 bytes per 4 characters (Node's base64 decoder skips what is not base64)
    const room = Math.ceil(base64.length / 4) * 3;
    let text: string;
    if (room > CHUNK_SCRATCH_BYTES) {
      text = Buffer.from(base64, 'base64').toString('utf8');
    } else {
      if (room > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(room, 2 * this.scratch.length, 512));
      text = this.scratch.toString(undefined, 0, this.scratch.write(base64, 'base64'));
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw malformedEvent(`chunk bytes ${describe(text)}`, err);
    }
  }
}

/** ConverseStream for one `completion` input. */
function request(input: RequestInput): Promise<ProviderRequest> {
  const inferenceConfig = mapSettings(input.taskSettings, {
    max_new_tokens: 'maxTokens',
    max_tokens: 'maxTokens',
    temperature: 'temperature',
    top_p: 'topP',
    stop: 'stopSequences',
  });
  const body: Record<string, unknown> = { messages: [{ role: 'user', content: [{ text: input.input }] }] };
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  if (input.taskSettings.top_k !== undefined) body.additionalModelRequestFields = { top_k: input.taskSettings.top_k };
  return converseStream(input.endpoint, JSON.stringify(body));
}

/** ConverseStream for a chat request (the body is built, and may be refused, before any signing). */
function chat(input: ChatInput): Promise<ProviderRequest> {
  const payload = JSON.stringify(bedrockChatBody(input.request, chatTarget(input), input.taskSettings));
  return converseStream(chatEndpoint(input), payload);
}

/** `POST /model/{model}/converse-stream` with `payload`, signed with SigV4 (service `bedrock`) by @smithy/signature-v4, loaded on the first Bedrock request. */
async function converseStream(endpoint: StoredEndpoint, payload: string): Promise<ProviderRequest> {
  const region = need(endpoint, 'region');
  const model = modelOf(endpoint) ?? '';
  const url = new URL(
    resolveUrl(
      endpoint,
      `https://bedrock-runtime.${region}.amazonaws.com/model/${encodeURIComponent(model)}/converse-stream`,
    ),
  );
  const sessionToken = text(endpoint.service_settings, 'session_token');
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const signer = new SignatureV4({
    service: 'bedrock',
    region,
    sha256: NodeSha256,
    credentials: {
      accessKeyId: need(endpoint, 'access_key'),
      secretAccessKey: need(endpoint, 'secret_key'),
      ...(sessionToken ? { sessionToken } : {}),
    },
  });
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host, 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' },
    body: payload,
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
  return { url: url.href, headers, body: payload };
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SigV4 signer takes (its `sha256` option). */
export class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: SourceData | undefined;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

/** Amazon Bedrock runtime: SigV4-signed requests, AWS event-stream answers. */
export const amazonbedrock = defineProvider({
  id: ID,
  description:
    'Amazon Bedrock AWS event stream: ConverseStream, or InvokeModelWithResponseStream chunks of Anthropic events',
  required: ['access_key', 'secret_key', 'region', 'model'],
  request,
  chat,
  createNormalizer: () => new BedrockNormalizer(),
});
