import { describe, expect, it } from "vitest";
import { regionName, t, vendorGenitive } from "../../i18n/index.ts";

describe("vendorGenitive", () => {
  it("gives a Danish name ending in s, x or z a bare apostrophe, any other name an s", () => {
    expect(vendorGenitive("MOCH A/S", "da")).toBe("MOCH A/S'");
    expect(vendorGenitive("Max", "da")).toBe("Max'");
    expect(vendorGenitive("Getz", "da")).toBe("Getz'");
    expect(vendorGenitive("Acme", "da")).toBe("Acmes");
    expect(vendorGenitive("MOCH A/S", "en")).toBe("MOCH A/S's");
  });

  it("is what the sentences naming the vendor use, in the notice subject and on the objection page", () => {
    expect(t("da").notice.subject("MOCH A/S", "4. januar 2027")).toBe(
      "Ændring af MOCH A/S' underdatabehandlere fra 4. januar 2027",
    );
    expect(t("da").objectionPage.intro("MOCH A/S")).toContain("ændringen af MOCH A/S' underdatabehandlere");
    expect(t("da").deadlineCalendar.title(2, "MOCH A/S")).toBe("Sidste dag for indsigelse mod MOCH A/S' varsel nr. 2");
    expect(t("da").unsubscribePage.body("Acme")).toContain("e-mails om Acmes underdatabehandlere");
  });
});

it("names a region in each language, and an unknown one by its id", () => {
  const vendor = { regions: [{ id: "ch", name: { da: "Schweiz", en: "Switzerland" }, law: "ch" as const }] };
  expect(regionName(vendor, "ch", "da")).toBe("Schweiz");
  expect(regionName(vendor, "ch", "en")).toBe("Switzerland");
  expect(regionName(vendor, "xx", "en")).toBe("xx");
});
