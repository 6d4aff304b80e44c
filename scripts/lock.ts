// `npm run lock`: after `npm install --package-lock-only` has brought package-lock.json in line with package.json
// (a new dependency, a merge that took one side of the lockfile), check that the lockfile still holds every
// platform's packages, so `npm ci` keeps working on Linux, macOS and Windows. Names what is missing otherwise.
import { readFileSync } from "node:fs";
import { type Lockfile, missingPackages } from "./lib/lockfile.ts";

const missing = missingPackages(JSON.parse(readFileSync("package-lock.json", "utf8")) as Lockfile);
if (missing.length > 0) {
  for (const m of missing)
    console.error(`package-lock.json: ${m.from || "package.json"} needs ${m.name}${m.optional ? " (optional)" : ""}`);
  console.error(
    `${missing.length} package(s) missing: the registry could not resolve them. Keep the previous lockfile's versions ` +
      "(git checkout the lockfile, then npm run lock again) or pin the dependency that brought them.",
  );
  process.exit(1);
}
console.log("package-lock.json holds every platform's packages.");
