// Staff's content change as the end-to-end tests make it: a new sub-processor file and its "added" change entry,
// announced today and effective after the DPA 5.2 notice period.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addDays, copenhagenDate } from "../domain/dates.ts";

export const today = copenhagenDate(new Date());
// DPA 5.2: a new sub-processor may start no earlier than 30 days after the notice; a day more for good measure.
export const effective = addDays(today, 31);

/** One new sub-processor for every customer (data in Denmark) and its "added" change entry. */
export function addSubProcessor(dir: string, id: string, name: string): void {
  writeFileSync(
    join(dir, "content/subprocessors", `${id}.mdx`),
    `---
id: ${id}
relationship: third-party
website: https://${id}.example
contact:
  email: privacy@${id}.example
timeline:
  - from: ${effective}
    name: ${name}
    entity:
      name: ${name} ApS
      address:
        street: Testvej 1
        postalCode: "8000"
        city: Aarhus C
        country: DK
    purpose:
      da: Helpdesk-system, som kundesupporten besvarer henvendelser i.
      en: Helpdesk system in which customer support answers enquiries.
    services: [customer-support]
    dataCategories: [name, email-address]
    locations:
      - country: DK
        city: Aarhus
---
`,
  );
  writeFileSync(
    join(dir, "content/changes", `${effective}-${id}-added.mdx`),
    `---
id: ${effective}-${id}-added
announced: ${today}
effective: ${effective}
kind: added
subprocessors: [${id}]
summary:
  da: ${name} ApS bliver underdatabehandler for kundesupporten med data i Danmark.
  en: ${name} ApS becomes a sub-processor for customer support, with data kept in Denmark.
---
`,
  );
}
