import { describe, expect, it } from "vitest";
import {
  addWorkingDays,
  CUSTOMARY_CLOSING_DAYS,
  closedDayOn,
  closedDays,
  DANISH_CALENDAR,
  earliestEffectiveDate,
  isWithinObjectionWindow,
  isWorkingDay,
  objectionDeadline,
  publicHolidays,
} from "../../domain/calendar.ts";
import { addDays } from "../../domain/dates.ts";
import type { WorkingDayCalendar } from "../../domain/schema/vendor.ts";

const HOLIDAYS_ONLY: WorkingDayCalendar = { country: "DK", extraClosedDays: [] };

// Official Danish public holidays (helligdage), written out by hand from the Danish calendar, not from the library.
// Easter Sunday: 2023-04-09, 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28.
const OFFICIAL: Record<number, Record<string, string>> = {
  2023: {
    "2023-01-01": "Nytårsdag",
    "2023-04-06": "Skærtorsdag",
    "2023-04-07": "Langfredag",
    "2023-04-09": "Påskedag",
    "2023-04-10": "2. påskedag",
    "2023-05-05": "Store bededag",
    "2023-05-18": "Kristi himmelfartsdag",
    "2023-05-28": "Pinsedag",
    "2023-05-29": "2. pinsedag",
    "2023-12-25": "Juledag",
    "2023-12-26": "2. juledag",
  },
  2024: {
    "2024-01-01": "Nytårsdag",
    "2024-03-28": "Skærtorsdag",
    "2024-03-29": "Langfredag",
    "2024-03-31": "Påskedag",
    "2024-04-01": "2. påskedag",
    "2024-05-09": "Kristi himmelfartsdag",
    "2024-05-19": "Pinsedag",
    "2024-05-20": "2. pinsedag",
    "2024-12-25": "Juledag",
    "2024-12-26": "2. juledag",
  },
  2025: {
    "2025-01-01": "Nytårsdag",
    "2025-04-17": "Skærtorsdag",
    "2025-04-18": "Langfredag",
    "2025-04-20": "Påskedag",
    "2025-04-21": "2. påskedag",
    "2025-05-29": "Kristi himmelfartsdag",
    "2025-06-08": "Pinsedag",
    "2025-06-09": "2. pinsedag",
    "2025-12-25": "Juledag",
    "2025-12-26": "2. juledag",
  },
  2026: {
    "2026-01-01": "Nytårsdag",
    "2026-04-02": "Skærtorsdag",
    "2026-04-03": "Langfredag",
    "2026-04-05": "Påskedag",
    "2026-04-06": "2. påskedag",
    "2026-05-14": "Kristi himmelfartsdag",
    "2026-05-24": "Pinsedag",
    "2026-05-25": "2. pinsedag",
    "2026-12-25": "Juledag",
    "2026-12-26": "2. juledag",
  },
  2027: {
    "2027-01-01": "Nytårsdag",
    "2027-03-25": "Skærtorsdag",
    "2027-03-26": "Langfredag",
    "2027-03-28": "Påskedag",
    "2027-03-29": "2. påskedag",
    "2027-05-06": "Kristi himmelfartsdag",
    "2027-05-16": "Pinsedag",
    "2027-05-17": "2. pinsedag",
    "2027-12-25": "Juledag",
    "2027-12-26": "2. juledag",
  },
};

/** Gregorian Easter Sunday (anonymous Gregorian algorithm): an independent oracle for the library's Easter. */
function gregorianEaster(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

describe("Danish public holidays", () => {
  for (const [year, expected] of Object.entries(OFFICIAL)) {
    it(`${year}: exactly the official helligdage, with their Danish names`, () => {
      const actual = Object.fromEntries(publicHolidays(Number(year)).map((h) => [h.date, h.name.da]));
      expect(actual).toEqual(expected);
    });
  }

  it("Store bededag is a public holiday in 2023 and abolished from 2024", () => {
    expect(publicHolidays(2023).some((h) => h.name.da === "Store bededag")).toBe(true);
    for (const year of [2024, 2025, 2026, 2027, 2030]) {
      expect(publicHolidays(year).some((h) => h.name.da === "Store bededag")).toBe(false);
    }
    // The Friday four weeks after Easter is an ordinary working day from 2024 on.
    expect(isWorkingDay("2023-05-05", HOLIDAYS_ONLY)).toBe(false);
    expect(isWorkingDay("2024-04-26", HOLIDAYS_ONLY)).toBe(true);
    expect(isWorkingDay("2025-05-16", HOLIDAYS_ONLY)).toBe(true);
  });

  it("observances are not public holidays: Fastelavn, 1. maj, Mors Dag, Grundlovsdag, Juleaftensdag", () => {
    const dates = new Set(publicHolidays(2024).map((h) => h.date));
    for (const observance of ["2024-02-12", "2024-05-01", "2024-05-12", "2024-06-05", "2024-12-24", "2024-12-31"]) {
      expect(dates.has(observance), observance).toBe(false);
    }
  });

  it("Påskedag matches the Gregorian computus for every year 2000-2100", () => {
    for (let year = 2000; year <= 2100; year++) {
      const easter = publicHolidays(year).find((h) => h.name.da === "Påskedag");
      expect(easter?.date, String(year)).toBe(gregorianEaster(year));
    }
  });

  it("every holiday carries an English name", () => {
    const en = Object.fromEntries(publicHolidays(2024).map((h) => [h.date, h.name.en]));
    expect(en).toEqual({
      "2024-01-01": "New Year's Day",
      "2024-03-28": "Maundy Thursday",
      "2024-03-29": "Good Friday",
      "2024-03-31": "Easter Sunday",
      "2024-04-01": "Easter Monday",
      "2024-05-09": "Ascension Day",
      "2024-05-19": "Whit Sunday",
      "2024-05-20": "Whit Monday",
      "2024-12-25": "Christmas Day",
      "2024-12-26": "Boxing Day",
    });
    expect(publicHolidays(2023).find((h) => h.date === "2023-05-05")?.name.en).toBe("General Prayer Day");
  });

  it("lists are sorted by date and cached per year", () => {
    const list = publicHolidays(2026);
    expect(list.map((h) => h.date)).toEqual([...list.map((h) => h.date)].sort());
    expect(publicHolidays(2026)).toBe(list);
    expect(Object.isFrozen(list)).toBe(true);
  });
});

describe("closed days", () => {
  it("the Danish calendar adds Constitution Day, Christmas Eve and New Year's Eve as customary closings", () => {
    expect(DANISH_CALENDAR.extraClosedDays).toEqual([...CUSTOMARY_CLOSING_DAYS]);
    const customary = closedDays(2025, DANISH_CALENDAR).filter((d) => d.kind === "customary-closing");
    expect(customary).toEqual([
      { date: "2025-06-05", name: { da: "Grundlovsdag", en: "Constitution Day" }, kind: "customary-closing" },
      { date: "2025-12-24", name: { da: "Juleaftensdag", en: "Christmas Eve" }, kind: "customary-closing" },
      { date: "2025-12-31", name: { da: "Nytårsaftensdag", en: "New Year's Eve" }, kind: "customary-closing" },
    ]);
    const publicOnes = closedDays(2025, DANISH_CALENDAR).filter((d) => d.kind === "public-holiday");
    expect(publicOnes.map((d) => d.date)).toEqual(Object.keys(OFFICIAL[2025] ?? {}));
  });

  it("with no extraClosedDays only the public holidays are closed", () => {
    expect(closedDays(2025, HOLIDAYS_ONLY).map((d) => d.date)).toEqual(Object.keys(OFFICIAL[2025] ?? {}));
    expect(closedDays(2025, HOLIDAYS_ONLY).every((d) => d.kind === "public-holiday")).toBe(true);
  });

  it("an extra closed day that is already a public holiday is reported once, as the public holiday", () => {
    const days = closedDays(2025, { country: "DK", extraClosedDays: ["12-25", "12-24"] });
    expect(days.filter((d) => d.date === "2025-12-25")).toEqual([
      { date: "2025-12-25", name: { da: "Juledag", en: "Christmas Day" }, kind: "public-holiday" },
    ]);
  });

  it("an unnamed extra closed day gets a generic name; 29 February only exists in leap years", () => {
    const calendar: WorkingDayCalendar = { country: "DK", extraClosedDays: ["02-29", "08-15"] };
    expect(closedDayOn("2025-08-15", calendar)).toEqual({
      date: "2025-08-15",
      name: { da: "Lukkedag", en: "Closing day" },
      kind: "customary-closing",
    });
    expect(closedDays(2025, calendar).some((d) => d.date.endsWith("-02-29"))).toBe(false);
    expect(closedDayOn("2028-02-29", calendar)?.kind).toBe("customary-closing");
    expect(isWorkingDay("2028-02-29", calendar)).toBe(false);
  });

  it("the order of extraClosedDays does not matter", () => {
    const a = closedDays(2026, { country: "DK", extraClosedDays: ["12-31", "06-05"] });
    const b = closedDays(2026, { country: "DK", extraClosedDays: ["06-05", "12-31"] });
    expect(a).toEqual(b);
  });
});

describe("working days", () => {
  it("Saturdays and Sundays are never working days", () => {
    expect(isWorkingDay("2024-03-22", HOLIDAYS_ONLY)).toBe(true); // Friday
    expect(isWorkingDay("2024-03-23", HOLIDAYS_ONLY)).toBe(false); // Saturday
    expect(isWorkingDay("2024-03-24", HOLIDAYS_ONLY)).toBe(false); // Sunday
    expect(isWorkingDay("2024-03-25", HOLIDAYS_ONLY)).toBe(true); // Monday
  });

  it("public holidays falling on weekdays are not working days", () => {
    for (const date of ["2024-01-01", "2024-03-28", "2024-03-29", "2024-04-01", "2024-05-09", "2024-05-20"]) {
      expect(isWorkingDay(date, HOLIDAYS_ONLY), date).toBe(false);
    }
  });

  it("Constitution Day, 24 Dec and 31 Dec are skipped by the Danish calendar", () => {
    // 2025-06-05 is a Thursday; 2024-12-24 and 2024-12-31 are Tuesdays.
    for (const date of ["2025-06-05", "2024-12-24", "2024-12-31"]) {
      expect(isWorkingDay(date, DANISH_CALENDAR), date).toBe(false);
    }
  });

  it("Constitution Day, 24 Dec and 31 Dec are working days when extraClosedDays is empty", () => {
    for (const date of ["2025-06-05", "2024-12-24", "2024-12-31"]) {
      expect(isWorkingDay(date, HOLIDAYS_ONLY), date).toBe(true);
    }
  });

  it("addWorkingDays never counts the start date and skips weekends", () => {
    expect(addWorkingDays("2024-03-18", 1, HOLIDAYS_ONLY)).toBe("2024-03-19"); // Mon → Tue
    expect(addWorkingDays("2024-03-22", 1, HOLIDAYS_ONLY)).toBe("2024-03-25"); // Fri → Mon
    expect(addWorkingDays("2024-03-23", 1, HOLIDAYS_ONLY)).toBe("2024-03-25"); // Sat → Mon
    expect(addWorkingDays("2024-03-18", 5, HOLIDAYS_ONLY)).toBe("2024-03-25");
    expect(addWorkingDays("2024-03-23", 0, HOLIDAYS_ONLY)).toBe("2024-03-23");
  });

  it("addWorkingDays carries over a year boundary", () => {
    // Tue 2024-12-31 closed by custom, Wed 2025-01-01 public holiday.
    expect(addWorkingDays("2024-12-30", 1, DANISH_CALENDAR)).toBe("2025-01-02");
    expect(addWorkingDays("2024-12-30", 1, HOLIDAYS_ONLY)).toBe("2024-12-31");
  });

  it("rejects a negative or fractional count and malformed dates", () => {
    expect(() => addWorkingDays("2024-03-18", -1, DANISH_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingDays("2024-03-18", 1.5, DANISH_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingDays("2024-02-30", 1, DANISH_CALENDAR)).toThrow(RangeError);
    expect(() => isWorkingDay("18-03-2024", DANISH_CALENDAR)).toThrow(RangeError);
  });
});

describe("DPA 5.3: objection deadline", () => {
  it("DPA 5.3: ten working days from receipt skip Easter", () => {
    // Thu 21 Mar 2024: Fri 22, Mon 25 – Wed 27 (4), Skærtorsdag, Langfredag, weekend, 2. påskedag skipped,
    // Tue 2 – Fri 5 Apr (8), Mon 8, Tue 9 Apr (10).
    const receivedAt = new Date("2024-03-21T09:00:00Z");
    expect(objectionDeadline(receivedAt, DANISH_CALENDAR, 10)).toBe("2024-04-09");
    // Without holidays the window would close on Thu 4 Apr; the three Easter weekdays push it out by three days.
    expect(addDays("2024-03-21", 14)).toBe("2024-04-04");
  });

  it("DPA 5.3: ten working days from receipt skip Christmas, New Year's Eve and New Year's Day", () => {
    // Fri 20 Dec 2024: Mon 23 (1); 24, 25, 26 closed; Fri 27 (2), Mon 30 (3); 31 Dec, 1 Jan closed;
    // Thu 2 Jan (4) … Fri 10 Jan (10).
    const receivedAt = new Date("2024-12-20T10:15:00Z");
    expect(objectionDeadline(receivedAt, DANISH_CALENDAR, 10)).toBe("2025-01-10");
  });

  it("DPA 5.3: 24 and 31 Dec count as working days when the calendar lists no extra closed days", () => {
    const receivedAt = new Date("2024-12-20T10:15:00Z");
    expect(objectionDeadline(receivedAt, HOLIDAYS_ONLY, 10)).toBe("2025-01-08");
  });

  it("DPA 5.3: the receipt day is the Copenhagen date, so 23:30 UTC in winter is already the next day", () => {
    // 2024-03-20T23:30Z is 00:30 on Thu 21 Mar in Copenhagen (CET, UTC+1): same deadline as a Thursday receipt.
    expect(objectionDeadline(new Date("2024-03-20T23:30:00Z"), DANISH_CALENDAR, 10)).toBe("2024-04-09");
    // Half an hour earlier it is still Wednesday 20 Mar in Copenhagen, and the window closes a working day sooner.
    expect(objectionDeadline(new Date("2024-03-20T22:59:59Z"), DANISH_CALENDAR, 10)).toBe("2024-04-08");
  });

  it("DPA 5.3: in summer time the Copenhagen day starts at 22:00 UTC", () => {
    // 2025-06-19T22:30Z is 00:30 on Fri 20 Jun (CEST, UTC+2).
    expect(objectionDeadline(new Date("2025-06-19T22:30:00Z"), DANISH_CALENDAR, 1)).toBe("2025-06-23");
    expect(objectionDeadline(new Date("2025-06-19T21:30:00Z"), DANISH_CALENDAR, 1)).toBe("2025-06-20");
  });

  it("DPA 5.3: a notice received on a holiday starts counting on the next working day", () => {
    // Received on Påskedag 2025 (Sun 20 Apr); 2. påskedag Mon 21 Apr is closed; Tue 22 Apr is day 1.
    expect(objectionDeadline(new Date("2025-04-20T12:00:00Z"), DANISH_CALENDAR, 1)).toBe("2025-04-22");
    expect(objectionDeadline(new Date("2025-04-20T12:00:00Z"), DANISH_CALENDAR, 10)).toBe("2025-05-05");
  });

  it("DPA 5.3: the window uses the configured number of working days", () => {
    const receivedAt = new Date("2024-03-21T09:00:00Z");
    expect(objectionDeadline(receivedAt, DANISH_CALENDAR, 5)).toBe("2024-04-02");
    expect(objectionDeadline(receivedAt, DANISH_CALENDAR, 15)).toBe("2024-04-16");
  });

  it("DPA 5.3: an objection is on time until the end of the deadline day in Copenhagen", () => {
    // Deadline Tue 9 Apr 2024 (CEST, UTC+2): the day ends at 2024-04-09T22:00Z.
    expect(isWithinObjectionWindow(new Date("2024-04-09T21:59:59Z"), "2024-04-09")).toBe(true);
    expect(isWithinObjectionWindow(new Date("2024-04-09T22:00:00Z"), "2024-04-09")).toBe(false);
    expect(isWithinObjectionWindow(new Date("2024-03-22T08:00:00Z"), "2024-04-09")).toBe(true);
  });

  it("rejects an invalid instant", () => {
    expect(() => objectionDeadline(new Date("not a date"), DANISH_CALENDAR, 10)).toThrow(RangeError);
  });
});

describe("DPA 5.2: notice period", () => {
  it("DPA 5.2: a new sub-processor starts no earlier than 30 calendar days after the notice", () => {
    expect(earliestEffectiveDate("2024-05-31", 30)).toBe("2024-06-30");
    expect(earliestEffectiveDate("2024-12-15", 30)).toBe("2025-01-14");
    expect(earliestEffectiveDate("2024-02-01", 30)).toBe("2024-03-02"); // leap year: 29 days in February
  });

  it("DPA 5.2: the notice period counts calendar days, holidays and weekends included", () => {
    // Announced Thu 21 Mar 2024: Easter falls inside the 30 days but does not extend the period.
    expect(earliestEffectiveDate("2024-03-21", 30)).toBe("2024-04-20");
  });

  it("rejects a negative notice period", () => {
    expect(() => earliestEffectiveDate("2024-03-21", -1)).toThrow(RangeError);
  });
});
