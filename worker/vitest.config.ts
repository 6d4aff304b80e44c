import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateReceiptKey } from "../domain/objection-receipt.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Secrets and vars for tests, independent of any local .dev.vars. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "worker/migrations"));
  // A fresh receipt key per run: tests verify receipts against the served JWKS, never against a key they know.
  const receiptKey = JSON.stringify(await generateReceiptKey());
  return {
    root,
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          // The built site may not exist when the tests run; serve a small fixture instead.
          assets: { directory: path.join(root, "tests/worker/fixtures/assets"), binding: "ASSETS" },
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            NOTICE_TOKEN_KEY: "test-notice-token-key-0123456789abcdef",
            WEBHOOK_SECRET_KEY: "test-webhook-secret-key-0123456789abcdef",
            RECEIPT_SIGNING_KEY: receiptKey,
            RESEND_API_KEY: "re_test_key",
            RESEND_WEBHOOK_SECRET: "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nw==",
            RESEND_BASE_URL: inject<string>("resendUrl"),
            PUBLIC_BASE_URL: "https://portal.example",
          },
        },
      })),
    ],
    test: {
      name: "worker",
      include: ["tests/worker/**/*.test.ts"],
      setupFiles: ["tests/worker/setup.ts"],
      globalSetup: ["tests/worker/global-setup.ts"],
    },
  };
});
