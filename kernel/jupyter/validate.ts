// What a message must be before anything acts on it. The wire layer drops
// what it cannot trust; the kernel answers a request whose content is wrong.
import { Message } from './messages';

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// Iterative, so the check itself cannot overflow the stack.
export function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}

// A request's content must be an object, and an execute_request's code a
// string: {} or [] never runs a cell.
export function contentProblem(msg: Message<unknown>): string | undefined {
  const type = msg.header.msg_type;
  if (!isObject(msg.content)) return `the content of a ${type} must be a JSON object`;
  if (type === 'execute_request' && typeof msg.content.code !== 'string') return 'an execute_request needs content.code, a string';
  return undefined;
}
