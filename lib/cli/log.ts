import type { Logger } from '../server/observe.js';
import { escapeControl, logText, newRequestId } from '../server/observe.js';

/** `--log-level` values, pino's levels plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `--log-format`: JSON lines, or a terminal rendering of them. */
export type LogFormat = 'json' | 'pretty';

/** A pino logger as the server uses it, plus a synchronous flush for the last lines before exit. */
export interface ServerLogger extends Logger {
  fatal(fields: object, msg?: string): void;
  flush(): void;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * A terminal format for pino's JSON lines: `12:00:00.123 INFO  request key=value …`, one
 * line per record. Every value is escaped (control characters, newlines), as in the JSON.
 */
export function prettyLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return escapeControl(line.trimEnd()) + '\n';
  }
  const { time, level, msg, pid: _pid, hostname: _host, ...rest } = record;
  const t = typeof time === 'string' ? time.slice(11, 23) : new Date(Number(time)).toISOString().slice(11, 23);
  const levelName = (typeof level === 'string' ? level.toUpperCase() : LEVEL_NAMES[Number(level)]) ?? String(level);
  const parts = [t, levelName.padEnd(5), escapeControl(String(msg ?? ''))];
  for (const [k, v] of Object.entries(rest)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    parts.push(`${escapeControl(k)}=${escapeControl(/\s/.test(text) || text === '' ? JSON.stringify(text) : text)}`);
  }
  return parts.join(' ') + '\n';
}

/** What the mixin adds to a line that has its request's id already: nothing (one shared object). */
const NOTHING = Object.freeze({});

/**
 * The server's logger: pino (loaded now, only for `serve`), JSON lines on stderr, written
 * synchronously so that no line is lost at exit. `pretty` rewrites each line for a terminal.
 * Every line has a `request_id`: its request's, or, for a line no request caused (start,
 * stop, registry, workers, warnings), one made for that line.
 */
export async function createLogger(options: {
  level: LogLevel;
  format: LogFormat;
  stderr?: NodeJS.WritableStream;
  base?: Record<string, unknown>;
}): Promise<ServerLogger> {
  const { pino } = await import('pino');
  const out = options.stderr ?? process.stderr;
  let destination: { write(s: string): void; flushSync?(): void };
  if (out === process.stderr) {
    const sonic = pino.destination({ dest: 2, sync: true });
    destination =
      options.format === 'pretty'
        ? { write: (s: string) => sonic.write(prettyLine(s)), flushSync: () => sonic.flushSync() }
        : sonic;
  } else {
    destination = { write: (s: string) => out.write(options.format === 'pretty' ? prettyLine(s) : s) };
  }
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: (fields: object) => ('request_id' in fields ? NOTHING : { request_id: newRequestId() }),
      // pino's default copies every line's fields into the mixin's object: only when there is something to add
      mixinMergeStrategy: (fields: object, mixed: object) =>
        mixed === NOTHING ? fields : Object.assign(mixed, fields),
      formatters: {
        level: (label: string) => ({ level: label }),
        // JSON escapes C0 controls; DEL, C1 and U+2028/2029 it leaves raw: every top-level string value gets them escaped too
        log: (fields: Record<string, unknown>) => {
          for (const k of Object.keys(fields)) {
            const v = fields[k];
            // bounded too: one line stays one write (see logText)
            if (typeof v === 'string') fields[k] = logText(v, 1000);
          }
          return fields;
        },
      },
    },
    destination as never,
  );
  return Object.assign(logger, {
    flush: () => {
      try {
        destination.flushSync?.();
      } catch {
        // nothing buffered, or stderr already closed
      }
    },
  }) as unknown as ServerLogger;
}

/** A process's warning as the CLI logs it (`process.emitWarning`, Node's own, a dependency's). */
interface WarningLike extends Error {
  code?: string;
}

let warningsRouted = false;

/**
 * Sends the process's warnings (deprecations, experimental features, a dependency's, ours) to
 * `log` as JSON lines instead of Node's plain-text print to stderr, and logs an uncaught
 * exception as one fatal line before the process exits with status 1 as Node would.
 * For the `serve` command only: it owns the process.
 */
export function routeProcessOutput(log: ServerLogger): void {
  if (warningsRouted) return;
  warningsRouted = true;
  // Node's printer is the only listener at this point (none under --no-warnings: then none are logged either)
  if (process.listenerCount('warning') > 0) {
    process.removeAllListeners('warning');
    process.on('warning', (w: WarningLike) => {
      log.warn(
        {
          event: 'process_warning',
          name: w.name,
          ...(w.code === undefined ? {} : { code: w.code }),
          reason: w.message,
        },
        'warning',
      );
    });
  }
  process.on('uncaughtException', (err: WarningLike) => {
    log.fatal(
      {
        event: 'crash',
        name: err?.name,
        ...(err?.code === undefined ? {} : { code: err.code }),
        reason: String(err?.message ?? err),
        stack: err?.stack,
      },
      'uncaught exception; exiting',
    );
    log.flush();
    process.exit(1);
  });
}
