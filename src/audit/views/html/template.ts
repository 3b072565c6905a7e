// Markup built from escaped text: `html` is a tagged template in which every
// interpolated value is escaped unless it is itself markup made by `html`.
// Record fields (commands a client chose, key comments, host names) are only
// ever interpolated, never concatenated into markup, so a `<script>` or a
// `</style>` in a log stays text. Invisible and control characters are shown
// as escapes (format.ts's `visible`), as in the terminal views.
import { visible } from '../format.js';

/**
 * Markup: produced by `html` (or `raw` for the stylesheet), inserted as it
 * is. It holds its pieces, not one string: nested markup (a cell in a row in
 * the timeline in the page) is copied as a list of references, and the page
 * is joined once, at the end. Concatenating at every level made a copy of
 * the 7 MB timeline per level over 1,000,000 records, and the write flattened
 * one more.
 */
export class Html {
  constructor(readonly parts: readonly string[]) {}
  get text(): string {
    return this.parts.join('');
  }
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return visible(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export type Value = Html | string | number | null | undefined | false | readonly Value[];

function put(out: string[], v: Value): void {
  if (v === null || v === undefined || v === false) return;
  if (v instanceof Html) {
    for (const p of v.parts) out.push(p);
  } else if (Array.isArray(v)) {
    for (const x of v as readonly Value[]) put(out, x);
  } else out.push(escapeHtml(String(v)));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  const out: string[] = [strings[0]!];
  for (let i = 0; i < values.length; i++) {
    put(out, values[i]!);
    out.push(strings[i + 1]!);
  }
  return new Html(out);
}

/** Trusted constant markup (the stylesheet): never for anything read from a record. */
export const raw = (text: string): Html => new Html([text]);
