// A recognisable secret in every credential field of every service; every output of the
// faults (answers, `event: error`, GET, PUT, what onError logs, thrown messages) is searched.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { getProvider, providerIds } from '../../lib/stages.js';
import { call, startProxy, stream, SECRET, type Proxy } from '../server/harness.js';
import type { Fault } from '../helpers/bad-provider.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** A line from the middle of the private key: if any of it shows, the key leaked. */
const PEM_PROBE = PEM.split('\n')[5]!;

/** Every credential a service can take, each with its own recognisable value. */
function credentials(service: string): Record<string, string> {
  const s = (field: string) => `${SECRET}-${service}-${field}`;
  switch (service) {
    case 'amazonbedrock':
      return { access_key: s('access_key'), secret_key: s('secret_key'), session_token: s('session_token') };
    case 'googlevertexai':
      return {
        service_account_json: JSON.stringify({
          type: 'service_account',
          project_id: 'p',
          private_key_id: s('private_key_id'),
          private_key: PEM,
          client_email: 'svc@p.iam.gserviceaccount.com',
          client_id: '1',
          token_uri: 'http://127.0.0.1:1/token',
        }),
      };
    case 'ollama':
      return {};
    default:
      return { api_key: s('api_key') };
  }
}

const PLAIN: Record<string, string> = {
  model_id: 'm',
  model: 'm',
  region: 'us-east-1',
  resource_name: 'r',
  deployment_id: 'd',
  api_version: '2024-10-21',
  project_id: 'p',
  location: 'us-central1',
  target: 'http://127.0.0.1:1',
  provider: 'openai',
  endpoint_type: 'token',
};

const FAULTS: Fault[] = [
  'ok',
  'echo-auth',
  'echo-auth-mid',
  'status-429',
  'status-500',
  'garbage',
  'reset-mid',
  'reset-before',
  'wrong-content-type',
];

describe('no secret in any output', () => {
  let proxy: Proxy;
  const outputs: string[] = [];
  const thrown: string[] = [];
  const onUnhandled = (err: unknown) => thrown.push(String((err as Error)?.stack ?? err));

  before(async () => {
    process.on('uncaughtException', onUnhandled);
    proxy = await startProxy({
      limits: { firstByteTimeoutMs: 300, idleTimeoutMs: 300, maxStreamDurationMs: 1500 },
      retry: { maxAttempts: 1 },
    });
  });
  after(async () => {
    process.off('uncaughtException', onUnhandled);
    await proxy.close();
  });

  test('every service, every credential field, every fault', async () => {
    let endpoints = 0;
    for (const service of providerIds()) {
      const definition = getProvider(service);
      const variants: Record<string, string>[] = [credentials(service)];
      if (service === 'azureopenai') variants.push({ entra_id: `${SECRET}-azureopenai-entra_id` });
      for (const [v, secrets] of variants.entries()) {
        for (const fault of FAULTS) {
          const id = `${service.replace(/_/g, '-')}-${v}-${fault}`;
          const settings: Record<string, string> = { url: proxy.provider.url(fault) };
          for (const key of [...definition.required, ...(definition.oneOf ?? [])])
            if (PLAIN[key] && !(key in settings)) settings[key] = PLAIN[key]!;
          Object.assign(settings, secrets);
          const put = await call(
            proxy.url,
            'PUT',
            `/_inference/completion/${id}`,
            JSON.stringify({ service, service_settings: settings }),
          );
          outputs.push(put.text);
          assert.equal(put.status, 200, `${id}: ${put.text}`);
          endpoints++;
          outputs.push((await call(proxy.url, 'GET', `/_inference/${id}`)).text);
          outputs.push((await stream(proxy.url, id)).text);
          outputs.push((await call(proxy.url, 'POST', `/_inference/completion/${id}`, '{"input":"hi"}')).text);
        }
      }
    }
    outputs.push((await call(proxy.url, 'GET', '/_inference/_all')).text);
    // a PUT that fails validation after reading the secret
    outputs.push(
      (
        await call(
          proxy.url,
          'PUT',
          '/_inference/completion/Bad-Id',
          JSON.stringify({ service: 'openai', service_settings: { api_key: `${SECRET}-bad-id` } }),
        )
      ).text,
    );
    outputs.push(
      (
        await call(
          proxy.url,
          'PUT',
          '/_inference/completion/x',
          `{"service":"openai","service_settings":{"api_key":"${SECRET}-broken-json"`,
        )
      ).text,
    );
    await proxy.provider.waitForNoSockets();

    const everything = [...outputs, ...proxy.logged, ...thrown];
    assert.ok(endpoints >= providerIds().length * FAULTS.length);
    assert.ok(proxy.logged.length > 50, `errors were logged (${proxy.logged.length})`);
    assert.ok(
      proxy.provider.received.some((r) => JSON.stringify(r.headers).includes(SECRET)),
      'the secret did reach the provider, so its absence below means something',
    );
    for (const text of everything) {
      assert.ok(
        !text.includes(SECRET),
        `secret leaked: ${text.slice(Math.max(0, text.indexOf(SECRET) - 200), text.indexOf(SECRET) + 100)}`,
      );
      assert.ok(!text.includes(PEM_PROBE), `private key leaked: ${text.slice(0, 300)}`);
    }
    assert.deepEqual(thrown, []);
  });
});
