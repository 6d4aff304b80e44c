import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

// One `vitest run` covers every suite; each project brings its own environment.
const projects = [
  {
    test: {
      name: "unit",
      include: ["tests/unit/**/*.test.ts", "domain/**/*.test.ts", "scripts/**/*.test.ts"],
      environment: "node",
    },
  },
  ...["worker/vitest.config.ts", "tests/e2e/vitest.config.ts"].filter((p) => existsSync(p)),
];

export default defineConfig({ test: { projects } });
