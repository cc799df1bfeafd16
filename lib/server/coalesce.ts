import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** Pumps with bytes waiting for the end of this event-loop turn; one `setImmediate` serves them all. */
let due: CoalescingPump[] = [];
let scheduled = false;

function flushDue(): void {
  scheduled = false;
  const pumps = due;
  due = [];
  for (let i = 0; i < pumps.length; i++) pumps[i]!.flush();
}

function flushAtTurnEnd(pump: CoalescingPump): void {
  due.push(pump);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushDue);
  }
}

/**
 * Writes a stream of event bytes into an HTTP response, one write per event-loop turn:
 * the events a response gets during one turn (several provider chunks in one socket read,
 * a batch, the last event and the end) go out as one chunk, in one `res.write`, at the end
 * of the turn (`setImmediate`), instead of one write (chunk framing, socket write) each.
 * The stream's first chunk is written at once, so the first delta is never held. Headers
 * not sent yet go with the first chunk when it comes within the turn (one write instead of
 * two), and alone at the end of the turn when it does not.
 *
 * Backpressure as with `pipe`: the source is paused while the response's buffer is full
 * (`write` returned false, until `drain`) and while the bytes waiting for the end of the
 * turn and those in the response together reach its high-water mark, so a slow client
 * still stops the provider socket. When the response closes, nothing more is written.
 */
export class CoalescingPump {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queued = false;
  private wroteFirst = false;
  private ended = false;
  private detached = false;
  /** Paused by us, for `drain` or the end of the turn. */
  private holding = false;
  /**
   * Bytes that may wait here without looking at the response: its high-water mark less what it
   * held right after our last write (it holds no more until our next one). 0: look every time.
   */
  private room = 0;

  /** Headers set with `writeHead` but not flushed: they go with the first write, or alone at the turn's end. */
  private headersPending: boolean;

  constructor(
    private readonly source: Readable,
    private readonly res: ServerResponse,
    options: { headersPending?: boolean } = {},
  ) {
    this.headersPending = options.headersPending === true;
    source.on('data', this.onData);
    source.on('end', this.onEnd); // 'end' and 'close' come once: no once() wrappers
    res.on('drain', this.onResponseDrain);
    res.on('close', this.detach);
    // headers not sent yet: they go with the first chunk when it comes in this turn, else alone at its end
    if (this.headersPending) {
      this.queued = true;
      flushAtTurnEnd(this);
    }
  }

  /**
   * Stops writing (the client left): what is waiting is dropped, the source is no longer
   * listened to and flows on, read by nobody (a drain reads the provider to its end).
   */
  readonly detach = (): void => {
    if (this.detached) return;
    this.detached = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.res.off('drain', this.onResponseDrain);
    this.res.off('close', this.detach);
    this.source.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (!this.wroteFirst) {
      this.wroteFirst = true;
      this.headersPending = false;
      if (!this.res.write(chunk)) this.hold();
      else this.measureRoom();
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // what waits here and what the response holds together stay within its high-water mark, as with pipe
    // (the response is only looked at when what waits could reach it)
    if (this.pendingBytes >= this.room && this.pendingBytes + this.res.writableLength >= this.res.writableHighWaterMark)
      this.hold();
    if (!this.queued) {
      this.queued = true;
      flushAtTurnEnd(this);
    }
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    // the end goes with what is waiting (in one write), or at once when nothing is
    if (!this.queued) this.flush();
  };

  /** Writes what waited for the end of the turn; ends the response after the source's end. Called by the turn's flush. */
  flush(): void {
    this.queued = false;
    if (this.detached || this.res.writableEnded || this.res.destroyed) return;
    const n = this.pending.length;
    let bytes: Buffer | null = null;
    if (n > 0) {
      bytes = n === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (this.ended) {
      this.detachListeners();
      if (bytes === null) this.res.end();
      else this.res.end(bytes);
      return;
    }
    if (bytes === null) {
      // nothing to carry the headers: they go alone, so that the client sees the answer has started
      if (this.headersPending) {
        this.headersPending = false;
        this.res.flushHeaders();
      }
    } else if (!this.res.write(bytes)) {
      this.hold();
      return;
    }
    this.measureRoom();
    if (this.holding && !this.res.writableNeedDrain) this.release();
  }

  private measureRoom(): void {
    this.room = this.res.writableHighWaterMark - this.res.writableLength;
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    this.source.pause();
  }

  private release(): void {
    this.holding = false;
    this.source.resume();
  }

  private readonly onResponseDrain = (): void => {
    // bytes still waiting for the turn's end keep the source paused until they are written
    if (this.holding && !this.queued) this.release();
  };

  private detachListeners(): void {
    this.source.off('data', this.onData);
    this.res.off('drain', this.onResponseDrain);
    this.res.off('close', this.detach);
  }
}
