/** Reading providers' JSON, whose shape we check field by field rather than trust. */
export function valueAt(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

export function stringAt(value: unknown, ...path: string[]): string | undefined {
  const at = valueAt(value, ...path);
  return typeof at === 'string' ? at : typeof at === 'number' ? String(at) : undefined;
}

export function arrayAt(value: unknown, ...path: string[]): unknown[] {
  const at = valueAt(value, ...path);
  return Array.isArray(at) ? at : [];
}
