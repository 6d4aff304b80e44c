import { stringify } from "csv-stringify/sync";

/**
 * Every CSV the portal writes (the site's /annex-c.csv, the vendor's deliveries.csv) goes through `toCsv`, so no cell
 * can run as a spreadsheet formula. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as
 * a formula by Excel, LibreOffice and Google Sheets (`=HYPERLINK(…)`, DDE); `=2+5-x@example.com` is a valid email
 * address a subscriber can choose. OWASP "CSV Injection": prefix such a cell with a single quote, which spreadsheets
 * show as text and do not display.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as text, with a leading `'` when a spreadsheet would otherwise read it as a formula. */
export function spreadsheetSafe(cell: string | number): string {
  const text = String(cell);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

export interface CsvOptions {
  /** CRLF record ends (RFC 4180) instead of LF. */
  windows?: boolean;
  /** Starts with a UTF-8 byte order mark, without which spreadsheet programs misread names such as "København". */
  bom?: boolean;
}

/** RFC 4180 CSV with a header row; every cell (header included) passes `spreadsheetSafe`. */
export function toCsv(
  columns: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: CsvOptions = {},
): string {
  return stringify(
    rows.map((row) => row.map(spreadsheetSafe)),
    {
      header: true,
      columns: columns.map(spreadsheetSafe),
      ...(options.windows ? { record_delimiter: "windows" as const } : {}),
      ...(options.bom ? { bom: true } : {}),
    },
  );
}
