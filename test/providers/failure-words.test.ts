// How a failed provider status is reported: Elasticsearch's words per provider, the
// provider's rate-limit headers in a 429, the provider's message only from a JSON body, and
// Elasticsearch's status mapping (unknown statuses become 400).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProviderId } from '../../lib/index.js';
import { restStatusFor } from '../../lib/stages.js';
import { runDeltas } from '../helpers/streams.js';

async function failure(
  provider: ProviderId,
  status: number,
  body: string,
  more: { headers?: Record<string, string>; url?: string } = {},
) {
  const got = await runDeltas(provider, [Buffer.from(body)], {
    status,
    inferenceId: 'my-endpoint',
    contentType: 'application/json',
    ...more,
  });
  assert.ok(got.error, `${provider} ${status}: an error`);
  return got.error;
}

describe('restStatusFor', () => {
  test('keeps the statuses below 500 Elasticsearch knows; everything else is 400', () => {
    for (const s of [400, 401, 403, 404, 408, 409, 413, 422, 424, 429, 302, 200])
      assert.equal(restStatusFor(s), s, String(s));
    for (const s of [425, 418, 421, 426, 428, 431, 451, 499, 306, 308, 500, 502, 503, 529, 599, 600, 1000, 0, -1, 42.5])
      assert.equal(restStatusFor(s), 400, String(s));
  });
});

describe('failed provider statuses, in Elasticsearch words', () => {
  test('statuses Elasticsearch does not know map to 400 (425 is an unsuccessful status, 1000 a server error)', async () => {
    const early = await failure('googleaistudio', 425, '{}');
    assert.deepEqual(early, {
      type: 'status_exception',
      reason: 'Received an unsuccessful status code for request from inference entity id [my-endpoint] status [425]',
      status: 400,
    });
    const huge = await failure('googleaistudio', 1000, '{}');
    assert.deepEqual(huge, {
      type: 'status_exception',
      reason: 'Received a server error status code for request from inference entity id [my-endpoint] status [1000]',
      status: 400,
    });
  });

  test('OpenAI 429 names its x-ratelimit headers, unknown when absent, and the provider message', async () => {
    const headers = {
      'x-ratelimit-limit-tokens': '90000',
      'x-ratelimit-remaining-tokens': '12',
      'x-ratelimit-reset-tokens': '6m0s',
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '0',
      'retry-after': '7',
    };
    const e = await failure('openai', 429, '{"error":{"message":"Slow down the kettle","type":"rate_limit_error"}}', {
      headers,
    });
    assert.equal(
      e.reason,
      'Received a rate limit status code. Token limit [90000], remaining tokens [12], tokens reset [6m0s]. Request limit [500], remaining requests [0], ' +
        'request reset [unknown]. Retry after [7] for request from inference entity id [my-endpoint] status [429]. Error message: [Slow down the kettle]',
    );
    assert.equal(e.status, 429);
  });

  test('Anthropic 429 names its anthropic-ratelimit headers; 529 is its overload wording', async () => {
    const headers = {
      'anthropic-ratelimit-tokens-limit': '4000',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2030-01-01T00:00:10Z',
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2030-01-01T00:00:01Z',
      'retry-after': '10',
    };
    const e = await failure(
      'anthropic',
      429,
      '{"type":"error","error":{"type":"rate_limit_error","message":"Too fast"}}',
      { headers },
    );
    assert.equal(
      e.reason,
      'Received a rate limit status code. Token limit [4000], remaining tokens [0], tokens reset [2030-01-01T00:00:10Z]. Request limit [50], remaining requests [49], ' +
        'request reset [2030-01-01T00:00:01Z]. Retry after [10] for request from inference entity id [my-endpoint] status [429]. Error message: [Too fast]',
    );
    const none = await failure('anthropic', 429, '{}');
    assert.match(
      none.reason,
      /Token limit \[unknown\], remaining tokens \[unknown\], tokens reset \[unknown\]\. .*Retry after \[unknown\] for request/,
    );
    const busy = await failure(
      'anthropic',
      529,
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
    assert.deepEqual(busy, {
      type: 'status_exception',
      reason:
        'Received an Anthropic server is temporarily overloaded status code for request from inference entity id [my-endpoint] status [529]. Error message: [Overloaded]',
      status: 400,
    });
  });

  test('Google: 503 is the service overload wording, 404 names the URL without its key', async () => {
    const studio = await failure(
      'googleaistudio',
      503,
      '{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}',
    );
    assert.equal(
      studio.reason,
      'The Google AI Studio service may be temporarily overloaded or down for request from inference entity id [my-endpoint] status [503]. Error message: [busy]',
    );
    assert.equal(studio.status, 400);
    const vertex = await failure('googlevertexai', 503, '{}');
    assert.match(vertex.reason, /^The Google Vertex AI service may be temporarily overloaded or down for request/);
    const url = 'https://example.test/v1beta/models/m:streamGenerateContent?alt=sse&key=AIzaSECRET';
    const missing = await failure('googleaistudio', 404, '{"error":{"message":"model not found"}}', { url });
    assert.equal(
      missing.reason,
      'Resource not found at [https://example.test/v1beta/models/m:streamGenerateContent?alt=sse&key=%5BREDACTED%5D] for request from inference entity id [my-endpoint] status [404]. Error message: [model not found]',
    );
    assert.ok(!missing.reason.includes('AIzaSECRET'));
    assert.equal(missing.status, 404);
  });

  test('Hugging Face 502/503 are rate limits; Cohere 503 is the server error and a too-many-texts 400 has its words', async () => {
    for (const s of [502, 503])
      assert.match(
        (await failure('hugging_face', s, '{}')).reason,
        /^Received a rate limit status code for request .* status \[5/,
      );
    assert.match(
      (await failure('cohere', 503, '{}')).reason,
      /^Received a server error status code for request from inference entity id \[my-endpoint\] status \[503\]$/,
    );
    const texts = await failure(
      'cohere',
      400,
      '{"message":"invalid request: total number of texts must be at most 96 - received 100"}',
    );
    assert.match(
      texts.reason,
      /^Received a texts array too large response for request from inference entity id \[my-endpoint\] status \[400\]\. Error message: \[invalid request/,
    );
  });

  test('OpenAI: a 400 about the context length is content too large (413)', async () => {
    const e = await failure(
      'openai',
      400,
      '{"error":{"message":"This is too long. Please reduce your prompt; or completion length.","type":"invalid_request_error"}}',
    );
    assert.match(
      e.reason,
      /^Received a content too large status code for request from inference entity id \[my-endpoint\] status \[400\]/,
    );
    assert.equal(e.status, 413);
  });

  test('the body is quoted only when it is JSON that carries a message', async () => {
    const html = await failure('openai', 502, '<html><body>Bad gateway</body></html>');
    assert.equal(
      html.reason,
      'Received a server error status code for request from inference entity id [my-endpoint] status [502]',
    );
    const text = await failure('anthropic', 500, 'upstream connect error or disconnect/reset before headers');
    assert.equal(
      text.reason,
      'Received a server error status code for request from inference entity id [my-endpoint] status [500]',
    );
    const json = await failure('ollama', 500, '{"error":"model is loading"}');
    assert.equal(
      json.reason,
      'Received a server error status code for request from inference entity id [my-endpoint] status [500]. Error message: [model is loading]',
    );
  });
});
