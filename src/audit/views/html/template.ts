// Markup built from escaped text: `html` is a tagged template in which every
// interpolated value is escaped unless it is itself markup made by `html`.
// Record fields (commands a client chose, key comments, host names) are only
// ever interpolated, never concatenated into markup, so a `<script>` or a
// `</style>` in a log stays text. Invisible and control characters are shown
// as escapes (format.ts's `visible`), as in the terminal views.
import { visible } from '../format.js';

/** Markup: produced by `html` (or `raw` for the stylesheet), inserted as it is. */
export class Html {
  constructor(readonly text: string) {}
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

function piece(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Value[]).map(piece).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted constant markup (the stylesheet): never for anything read from a record. */
export const raw = (text: string): Html => new Html(text);
