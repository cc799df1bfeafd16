import { isIP } from 'node:net';
import { unsafeBinding } from '../errors.js';
import { API_KEY_ENV } from './api-keys.js';

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The safe default: without API keys the server may only listen on loopback. Throws the
 * error to print (and exit on) when a non-loopback address is asked for without keys.
 */
export function assertSafeBinding(host: string, keysConfigured: boolean): void {
  if (keysConfigured || isLoopbackHost(host)) return;
  throw unsafeBinding(host, API_KEY_ENV);
}
