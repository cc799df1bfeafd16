// Checks of DashScope's incremental-or-cumulative detection and code -> status table that
// fixtures cannot state one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalOrCumulative, dashScopeStatus } from '../../lib/providers/dialects/dashscope.js';

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
