// A cell that begins with = + - @, a tab or a carriage return is read as a formula by spreadsheet programs (CSV
// injection, OWASP): a customer named "=HYPERLINK(…)" would run in the auditor's spreadsheet. A single quote in
// front makes the program show the text as text. Local to domain/ until a shared helper exists.

const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as text a spreadsheet shows and never evaluates. */
export function spreadsheetSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
