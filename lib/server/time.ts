import { badTimeValue } from '../errors.js';

const UNITS: Record<string, number> = {
  nanos: 1e-6,
  micros: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const TIME = /^(\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)$/;

/** Elasticsearch's time value (`30s`, `500ms`, `2m`; `-1` means no limit) in milliseconds. */
export function parseTimeValue(value: string, setting: string): number {
  if (value === '-1') return Infinity;
  if (value === '0') return 0;
  const m = TIME.exec(value.trim().toLowerCase());
  if (!m) {
    throw badTimeValue(setting, value);
  }
  return Number(m[1]) * UNITS[m[2]!]!;
}
