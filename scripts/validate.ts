// `npm run validate [-- --root <dir>]`: checks content/ and prints one line per error (file: field: [rule] message).
import { parseArgs } from "node:util";
import { formatError } from "../domain/validate.ts";
import { buildDate, loadContent } from "./lib/load-content.ts";

const { values } = parseArgs({ options: { root: { type: "string", default: "." } } });
const today = buildDate();
const { content, errors } = loadContent(values.root ?? ".", today);

if (errors.length > 0) {
  for (const error of errors) console.error(formatError(error));
  console.error(`\n✖ ${errors.length} content error${errors.length === 1 ? "" : "s"}; nothing was built.`);
  process.exit(1);
}
console.log(
  `✔ content is valid: ${content?.subprocessors.length} sub-processors, ${content?.changes.length} changes, ${content?.dpaVersions.length} DPA versions (checked for ${today})`,
);
