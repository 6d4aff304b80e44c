import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Customer } from "../../domain/schema/customer.ts";
import { Vendor } from "../../domain/schema/vendor.ts";

/** The shipped vendor, as the worker reads it. */
export const shippedVendor: Vendor = Vendor.parse(parse(readFileSync("content/vendor.yaml", "utf8")));

/**
 * The shipped vendor with a fixed list of regions, so these tests do not depend on how content/vendor.yaml happens
 * to cut its regions today (the EEA and Switzerland may be one region or two).
 */
export const vendor: Vendor = {
  ...shippedVendor,
  regions: ["uk", "de", "ca", "eea", "ch"].map((id) => ({ id, name: { da: id, en: id } })),
};

export function customer(extra: Partial<Customer> = {}): Customer {
  return {
    externalId: "C-1",
    name: "Nordlys A/S",
    region: "uk",
    contractDate: "2024-01-10",
    locale: "en",
    contacts: [{ email: "dpo@nordlys.example" }],
    ...extra,
  };
}
