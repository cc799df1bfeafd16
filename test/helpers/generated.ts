import { Readable } from 'node:stream';

/**
 * A lazily generated OpenAI stream of `events` chunks (never held in memory), counting the
 * bytes it has handed over, so a test can see how far a stalled consumer let it get.
 */
export class GeneratedOpenAiStream extends Readable {
  handedOver = 0;
  private sent = 0;
  constructor(
    private readonly events: number,
    private readonly text = 'token ',
  ) {
    super();
  }
  override _read(): void {
    let more = true;
    while (more) {
      if (this.sent === this.events) {
        const done = Buffer.from('data: [DONE]\n\n');
        this.handedOver += done.length;
        this.push(done);
        this.push(null);
        return;
      }
      const chunk = Buffer.from(
        `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(this.text)}},"finish_reason":null}]}\n\n`,
      );
      this.sent++;
      this.handedOver += chunk.length;
      more = this.push(chunk);
    }
  }
}

/** Lets every callback already queued run: a few turns of the event loop, not a timed sleep. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
