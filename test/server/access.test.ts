import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/server/api-keys.js';
import { actionFor, checkAccess, securityErrorBody } from '../../lib/server/access.js';
import { SecurityError } from '../../lib/errors.js';
import { assertSafeBinding, isLoopbackHost } from '../../lib/server/bind.js';

const MONITOR = 'monitor-key-0123456789';
const MANAGE = 'manage-key-0123456789';
const keys = ApiKeys.fromConfig({
  api_keys: [
    { id: 'reader', key: MONITOR, privileges: ['monitor_inference'] },
    { id: 'admin', name: 'ops', key: MANAGE, privileges: ['manage_inference'] },
  ],
});

describe('access checks', () => {
  test("each method's Elasticsearch action", () => {
    assert.equal(actionFor('GET').name, 'cluster:monitor/xpack/inference/get');
    assert.equal(actionFor('POST').name, 'cluster:monitor/xpack/inference/post');
    assert.equal(actionFor('PUT').name, 'cluster:admin/xpack/inference/put');
    assert.equal(actionFor('DELETE').name, 'cluster:admin/xpack/inference/delete');
    assert.equal(actionFor('PATCH').privilege, 'manage_inference', 'an unknown method needs the most');
  });

  test('no keys configured: everything passes (the loopback-only default guards this)', () => {
    assert.equal(checkAccess(null, undefined, 'PUT', '/_inference/x'), null);
  });

  test('missing credentials: 401, the URI, and the challenge as Elasticsearch writes it', () => {
    const err = thrown(() => checkAccess(keys, undefined, 'GET', '/_inference/_all?pretty'));
    assert.equal(err.status, 401);
    assert.deepEqual(securityErrorBody(err), {
      error: {
        root_cause: [
          {
            type: 'security_exception',
            reason: 'missing authentication credentials for REST request [/_inference/_all?pretty]',
            header: { 'WWW-Authenticate': ['ApiKey', 'Bearer realm="security"'] },
          },
        ],
        type: 'security_exception',
        reason: 'missing authentication credentials for REST request [/_inference/_all?pretty]',
        header: { 'WWW-Authenticate': ['ApiKey', 'Bearer realm="security"'] },
      },
      status: 401,
    });
  });

  test('wrong key: 401 that does not echo what was sent', () => {
    const err = thrown(() => checkAccess(keys, 'ApiKey not-the-key-at-all', 'GET', '/_inference/x'));
    assert.equal(err.status, 401);
    assert.equal(
      err.reason,
      'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
    );
    assert.ok(!JSON.stringify(securityErrorBody(err)).includes('not-the-key'));
  });

  test('privileges: monitor may GET and POST; only manage may PUT and DELETE (403 naming the action)', () => {
    for (const method of ['GET', 'POST']) {
      const who = checkAccess(keys, `ApiKey ${MONITOR}`, method, '/_inference/x');
      assert.ok(who && who.id === 'reader', method);
    }
    for (const method of ['PUT', 'DELETE']) {
      const err = thrown(() => checkAccess(keys, `ApiKey ${MONITOR}`, method, '/_inference/x'));
      assert.equal(err.status, 403, method);
      assert.equal(
        err.reason,
        `action [cluster:admin/xpack/inference/${method.toLowerCase()}] is unauthorized for API key id [reader] of user [reader], this action is granted by the cluster privileges [manage_inference]`,
      );
      assert.equal(securityErrorBody(err).status, 403);
      const admin = checkAccess(keys, `Bearer ${MANAGE}`, method, '/_inference/x');
      assert.ok(admin && admin.name === 'ops');
    }
  });
});

describe('binding', () => {
  test('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'api.localhost'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', ''])
      assert.ok(!isLoopbackHost(h), h);
  });

  test('without keys only loopback; with keys anywhere', () => {
    assert.doesNotThrow(() => assertSafeBinding('127.0.0.1', false));
    assert.throws(
      () => assertSafeBinding('0.0.0.0', false),
      /Refusing to listen on \[0\.0\.0\.0\] without API keys.*INFERENCE_STREAM_API_KEY/,
    );
    assert.doesNotThrow(() => assertSafeBinding('0.0.0.0', true));
  });
});

describe('redaction', async () => {
  const { redact, redactError, secretsOf } = await import('../../lib/server/redact.js');
  const { InferenceError } = await import('../../lib/errors.js');
  const endpoint = {
    inference_id: 'x',
    task_type: 'completion',
    service: 'googlevertexai',
    service_settings: {
      api_key: 'sk-"quoted"-secret',
      model_id: 'not-a-secret',
      service_account_json: JSON.stringify({
        private_key_id: 'kid-123456',
        private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
      }),
    },
    task_settings: {},
  };

  test('secret settings, escaped forms, private key lines; ordinary settings kept', () => {
    const secrets = secretsOf(endpoint);
    const text = `key sk-"quoted"-secret, as JSON ${JSON.stringify('sk-"quoted"-secret')}, kid-123456, MIIEvQIBADANBgkqhkiG9w0BAQEFAASC, model not-a-secret`;
    const clean = redact(text, secrets);
    assert.ok(!clean.includes('quoted') && !clean.includes('kid-123456') && !clean.includes('MIIEvQ'), clean);
    assert.ok(clean.includes('not-a-secret'));
    const err = new InferenceError('status_exception', 'Error message: [Bearer sk-"quoted"-secret]', 401);
    assert.equal(redactError(err, secrets).reason, 'Error message: [Bearer [REDACTED]]');
    const same = new InferenceError('status_exception', 'nothing here', 401);
    assert.equal(redactError(same, secrets), same);
  });
});

/** The SecurityError a check throws (fails the test when it throws nothing or something else). */
function thrown(check: () => unknown): SecurityError {
  try {
    check();
  } catch (err) {
    assert.ok(err instanceof SecurityError, 'a SecurityError');
    return err;
  }
  assert.fail('expected a SecurityError');
}
