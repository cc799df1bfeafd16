/**
 * Whether a delta object is one of the library's kinds, well formed: answer / reasoning /
 * finish text (never empty), usage (an object), the message start (`role: "assistant"`
 * with an optional id and model), a tool-call piece (the first names the call, later ones
 * carry argument text only) or a refusal.
 */
export function validDelta(d: object): boolean {
  const keys = Object.keys(d);
  const r = d as Record<string, unknown>;
  if (keys[0] === 'role')
    return (
      r.role === 'assistant' &&
      keys.every((k) => k === 'role' || ((k === 'id' || k === 'model') && typeof r[k] === 'string'))
    );
  if (keys.length !== 1) return false;
  const [k] = keys;
  const v = r[k!];
  if (k === 'delta' || k === 'reasoning' || k === 'finish_reason' || k === 'refusal')
    return typeof v === 'string' && v.length > 0;
  if (k === 'tool_call') {
    const c = v as Record<string, unknown>;
    if (typeof c.index !== 'number' || !Number.isInteger(c.index) || c.index < 0) return false;
    if (c.id !== undefined)
      return (
        typeof c.id === 'string' &&
        c.id.length > 0 &&
        typeof c.name === 'string' &&
        (c.arguments === undefined || typeof c.arguments === 'string')
      );
    return c.name === undefined && typeof c.arguments === 'string' && c.arguments.length > 0;
  }
  return k === 'usage' && typeof v === 'object' && v !== null && !Array.isArray(v);
}
