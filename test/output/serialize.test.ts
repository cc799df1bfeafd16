import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { completionStream, InferenceError } from '../../lib/index.js';
import { serialize } from '../../lib/stages.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(Buffer.from(b as Buffer));
  return Buffer.concat(parts);
}

describe("Elasticsearch's bytes", () => {
  test('completion events, compact JSON, LF only, [DONE] at a clean end', async () => {
    const s = serialize();
    s.write([{ delta: 'Hello' }, { delta: ' "wörld"\n' }]);
    s.end([{ delta: '🌍' }]);
    assert.equal(
      (await readAll(s)).toString(),
      'event: message\ndata: {"completion":[{"delta":"Hello"},{"delta":" \\"wörld\\"\\n"}]}\n\n' +
        'event: message\ndata: {"completion":[{"delta":"🌍"}]}\n\n' +
        'event: message\ndata: [DONE]\n\n',
    );
  });

  test('bom: true writes U+FEFF before every event, as Elasticsearch does', async () => {
    const s = serialize({ bom: true });
    s.end([{ delta: 'a' }]);
    const bytes = await readAll(s);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]).toString('latin1');
    assert.equal(
      bytes.toString('latin1'),
      bom + 'event: message\ndata: {"completion":[{"delta":"a"}]}\n\n' + bom + 'event: message\ndata: [DONE]\n\n',
    );
  });

  test('an error ends the stream with the error event and no [DONE]', async () => {
    const s = serialize();
    s.write([{ delta: 'a' }]);
    s.write(new InferenceError('status_exception', 'Received a rate limit status code', 429));
    s.end([{ delta: 'ignored' }]);
    assert.equal(
      (await readAll(s)).toString(),
      'event: message\ndata: {"completion":[{"delta":"a"}]}\n\n' +
        'event: error\ndata: {"error":{"root_cause":[{"type":"status_exception","reason":"Received a rate limit status code"}],"type":"status_exception","reason":"Received a rate limit status code"},"status":429}\n\n',
    );
  });

  test('completionStream with bom: an error event starts with the BOM too', async () => {
    const s = completionStream('openai', { bom: true, status: 429 });
    s.end(Buffer.from('{"error":{"message":"slow down"}}'));
    const text = (await readAll(s)).toString();
    assert.ok(text.startsWith('\uFEFFevent: error\ndata: '));
    const body = JSON.parse(text.split('data: ')[1]!);
    assert.equal(body.status, 429);
    assert.equal(body.error.type, 'status_exception');
  });
});
