/**
 * Where a JSON path (`steps[1].params.url`, as the API's `details[].path` writes it) sits
 * in a JSON text: the span of its value, or of its key when the value is missing. A small
 * scanner rather than a parse, so it also works on text being edited.
 */

export interface Span {
  from: number;
  to: number;
}

/** Every value's span by its path in `text`; stops quietly where the text stops being JSON. */
export function jsonSpans(text: string): Map<string, Span> {
  const spans = new Map<string, Span>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return text.slice(start + 1, i - 1);
    }
  };
  const join = (path: string, key: string | number) =>
    typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  const value = (path: string): void => {
    ws();
    const from = i;
    const ch = text[i];
    if (ch === '{') {
      i++;
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          break;
        }
        if (text[i] !== '"') return;
        const keyFrom = i;
        const key = str();
        spans.set(join(path, key), { from: keyFrom, to: i });
        ws();
        if (text[i] !== ':') return;
        i++;
        value(join(path, key));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          break;
        } else return;
      }
    } else if (ch === '[') {
      i++;
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === ']') {
          i++;
          break;
        }
        value(join(path, n));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          break;
        } else return;
      }
    } else if (ch === '"') str();
    else while (i < text.length && /[^\s,}\]]/.test(text[i])) i++;
    if (i > from) spans.set(path || '(root)', { from, to: i });
  };
  value('');
  return spans;
}

/** The span for `path`, or for its nearest ancestor that exists (a missing field marks its parent). */
export function locate(text: string, path: string, spans = jsonSpans(text)): Span {
  let p = path;
  for (;;) {
    const span = spans.get(p || '(root)');
    if (span) return span;
    if (!p) return { from: 0, to: Math.min(1, text.length) };
    p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (p === path) p = '';
  }
}
