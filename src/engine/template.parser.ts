import { ExpressionError } from './expression.error.js';

export type TemplatePart = { text: string } | { expression: string; offset: number };

/** `}}` is searched outside string literals and object constructors: `{{ {'a': 1} }}` is one expression. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let cursor = 0;
  while (cursor < template.length) {
    const open = template.indexOf('{{', cursor);
    if (open === -1) break;
    if (open > cursor) parts.push({ text: template.slice(cursor, open) });
    const start = open + 2;
    const end = findClose(template, start);
    if (end === -1) {
      throw new ExpressionError('expression_invalid', `"{{" at position ${open} is not closed by "}}"`, {
        position: open,
      });
    }
    parts.push({ expression: template.slice(start, end), offset: start });
    cursor = end + 2;
  }
  if (cursor < template.length) parts.push({ text: template.slice(cursor) });
  return parts;
}

function findClose(template: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < template.length) {
    const char = template[i];
    if (char === '"' || char === "'" || char === '`') {
      i = skipQuoted(template, i);
    } else if (char === '/' && template[i + 1] === '*') {
      const close = template.indexOf('*/', i + 2);
      if (close === -1) return -1;
      i = close + 2;
    } else if (char === '{') {
      depth++;
      i++;
    } else if (char === '}') {
      if (depth === 0 && template[i + 1] === '}') return i;
      if (depth > 0) depth--;
      i++;
    } else {
      i++;
    }
  }
  return -1;
}

function skipQuoted(template: string, start: number): number {
  const quote = template[start];
  let i = start + 1;
  while (i < template.length) {
    const char = template[i];
    if (char === '\\' && quote !== '`') {
      i += 2;
    } else if (char === quote) {
      return i + 1;
    } else {
      i++;
    }
  }
  return i;
}
