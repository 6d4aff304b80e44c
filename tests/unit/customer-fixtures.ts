import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Customer } from "../../domain/schema/customer.ts";
import { Vendor } from "../../domain/schema/vendor.ts";

/** The shipped vendor, as the worker reads it. */
export const shippedVendor: Vendor = Vendor.parse(parse(readFileSync("content/vendor.yaml", "utf8")));

/** The shipped vendor: its regions are uk, de, ca, eea and ch (the EEA and Switzerland apart, README "Regions"). */
export const vendor: Vendor = shippedVendor;

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
