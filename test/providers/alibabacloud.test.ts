// Checks of DashScope's incremental-or-cumulative detection and code -> status table that
// fixtures cannot state one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalOrCumulative, dashScopeStatus } from '../../lib/providers/dialects/dashscope.js';
import { getProvider } from '../../lib/providers/index.js';
import { answer, cutEvery, runDeltas } from '../helpers/streams.js';

const run = (texts: string[]) => {
  const t = new IncrementalOrCumulative();
  return texts.map((s) => t.next(s));
};

test('incremental text is handed on as it is, empty texts do not decide', () => {
  assert.deepEqual(run(['', 'Hel', '', 'lo', ' Hel', 'lo']), ['', 'Hel', '', 'lo', ' Hel', 'lo']);
});

test('cumulative text gives only the new suffix, a repeat gives nothing', () => {
  assert.deepEqual(run(['Hel', 'Hello', 'Hello wo', 'Hello world', 'Hello world']), ['Hel', 'lo', ' wo', 'rld', '']);
});

test('a snapshot that stops extending the previous one is kept whole, as incremental', () => {
  assert.deepEqual(run(['ab', 'abc', 'x', 'abcd']), ['ab', 'c', 'x', 'abcd']);
});

test('DashScope error codes map to the documented HTTP statuses', () => {
  const expected: Record<string, number> = {
    'Throttling.AllocationQuota': 429,
    'Throttling.RateQuota': 429,
    InvalidApiKey: 401,
    'AccessDenied.Unpurchased': 403,
    RequestTimeOut: 408,
    'BadRequest.TooLarge': 413,
    InvalidParameter: 400,
    DataInspectionFailed: 400,
    Arrearage: 400,
    'InternalError.Algo': 500,
    SomethingNew: 500,
    // compatible mode spells the same codes in snake case
    data_inspection_failed: 400,
    invalid_parameter_error: 400,
    invalid_api_key: 401,
    limit_requests: 429,
    internal_error: 500,
  };
  for (const [code, status] of Object.entries(expected)) assert.equal(dashScopeStatus(code), status, code);
});

// The request says whether DashScope text is incremental; the reader follows it instead of guessing.
const nativeEvent = (content: string, finish = 'null') =>
  `id:1\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify({ output: { choices: [{ message: { role: 'assistant', content }, finish_reason: finish }] }, usage: { total_tokens: 3 } })}\n\n`;

test('incremental output asked for: repeated text is kept ("Ha", "Ha", "!" is "HaHa!"), in every cut', async () => {
  const body = Buffer.from(nativeEvent('Ha') + nativeEvent('Ha') + nativeEvent('!', 'stop'));
  const guessed = await runDeltas('alibabacloud', [body], { contentType: 'text/event-stream' });
  assert.equal(answer(guessed.deltas), 'Ha!', 'without the request the data looks cumulative');
  for (const chunks of [[body], cutEvery(body, 1), cutEvery(body, 7)]) {
    const got = await runDeltas('alibabacloud', chunks, {
      contentType: 'text/event-stream',
      readerOptions: { incremental: true },
    });
    assert.equal(answer(got.deltas), 'HaHa!');
    assert.equal(got.error, null);
  }
  const cumulative = Buffer.from(nativeEvent('Ha') + nativeEvent('HaHa') + nativeEvent('HaHa!', 'stop'));
  const got = await runDeltas('alibabacloud', [cumulative], {
    contentType: 'text/event-stream',
    readerOptions: { incremental: false },
  });
  assert.equal(answer(got.deltas), 'HaHa!');
});

test('the native request asks for incremental output and tells the reader so', async () => {
  const req = await getProvider('alibabacloud').request(
    {
      endpoint: {
        inference_id: 'd',
        task_type: 'completion',
        service: 'alibabacloud',
        service_settings: { api_key: 'k', model_id: 'qwen-plus' },
        task_settings: {},
      },
      input: 'hi',
      taskSettings: {},
    },
    { dispatcher: undefined as never, cache: new Map() },
  );
  assert.equal(JSON.parse(req.body).parameters.incremental_output, true);
  assert.deepEqual(req.readerOptions, { incremental: true });
});
