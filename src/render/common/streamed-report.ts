import { jsonMetadata, type RenderContext } from './render-as.js';

/**
 * A report rendered while it is read (suspects: any number of groups): text
 * for what is known first, for each batch of items, and for what is known
 * last. Pure like every renderer; the command writes each piece as it comes
 * (src/cli/output.ts, openReportStream), so memory holds one batch.
 */
export interface StreamedReport<Header, Item, Summary> {
  start(header: Header): string;
  items(items: readonly Item[]): string;
  end(summary: Summary): string;
}

/**
 * JSON written piece by piece, byte for byte what renderAs writes for
 * `{ generatedAt, database, ...header, [field]: items, ...summary }`: the
 * header's fields, the items of one array field, then the summary's fields.
 */
export function streamedJson<Header extends object, Item, Summary extends object>(
  field: string,
  context: Pick<RenderContext, 'generatedAt' | 'database'>,
): StreamedReport<Header, Item, Summary> {
  const top = jsonMetadata(context);
  let any = false;
  return {
    // the whole object with the array empty, cut after its "[" (the "]\n}" dropped)
    start: (header) => JSON.stringify({ ...top, ...header, [field]: [] }, null, 2).slice(0, -3),
    // JSON.stringify escapes line breaks inside strings, so indenting an item line by line is safe
    items: (items) =>
      items
        .map((item) => {
          const text = `${any ? ',' : ''}\n    ${JSON.stringify(item, null, 2).replaceAll('\n', '\n    ')}`;
          any = true;
          return text;
        })
        .join(''),
    // the summary's fields without its "{"
    end: (summary) => `${any ? '\n  ' : ''}],${JSON.stringify(summary, null, 2).slice(1)}\n`,
  };
}
