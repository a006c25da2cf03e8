/**
 * An expected failure a person can fix (bad input, a name already taken):
 * returned as a value with a one-line message, never thrown.
 */
export interface Problem {
  problem: string;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'problem' in value;
}
