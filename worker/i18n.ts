/**
 * Every sentence the worker shows or emails, in Danish and English. Pages and emails pick one
 * bundle with `t(locale)`; a missing key is a type error, so a language cannot be half translated.
 */
import type { NoticeTopic as Topic } from "../domain/notice.ts";
import type { Locale } from "../domain/schema/common.ts";
import type { SubscriberStatus } from "./db/subscribers.ts";
import { vendor } from "./env.ts";
import type { ErrorCode } from "./http/errors.ts";

export interface Strings {
  skipLink: string;
  siteName: string;
  home: string;
  topics: Record<Topic, string>;
  status: Record<SubscriberStatus, string>;
  confirmPage: { title: string; intro: string; scannerNote: string; button: string };
  confirmedPage: { title: string; body: string };
  managePage: {
    title: string;
    intro: string;
    address: string;
    statusLabel: string;
    language: string;
    topicsLegend: string;
    regionsLegend: string;
    cohortLegend: string;
    cohortUnknown: string;
    save: string;
    saved: string;
    exportHeading: string;
    exportBody: string;
    exportButton: string;
    unsubscribeHeading: string;
    unsubscribeBody: string;
    unsubscribeButton: string;
    resubscribeBody: string;
    resubscribeButton: string;
    suppressedBody: string;
    eraseHeading: string;
    eraseBody: string;
    eraseButton: string;
  };
  unsubscribePage: { title: string; body: string; button: string; doneTitle: string; doneBody: string };
  /** The second step of "Erase my data": nothing is erased until this page's button is pressed. */
  erasePage: { title: string; body: string; button: string; keep: string };
  erasedPage: { title: string; body: string };
  errorPage: { title: string; back: string };
  errors: Partial<Record<ErrorCode, string>> & { generic: string };
  languageNames: Record<Locale, string>;
  email: {
    footerWhy: string;
    unsubscribeLabel: string;
    confirm: { subject: string; preheader: string; intro: string; button: string; expiry: string; ignore: string };
    welcome: {
      subject: string;
      intro: string;
      summaryTopics: string;
      summaryRegions: string;
      manage: string;
      manageButton: string;
      keep: string;
    };
  };
}

const name = vendor.name;
/** Danish genitive: a name ending in s, x or z takes an apostrophe ("MOCH A/S'"), others an s. */
const nameGenDa = /[sxz]$/i.test(name) ? `${name}'` : `${name}s`;

const da: Strings = {
  skipLink: "Spring til indholdet",
  siteName: `${name}: underdatabehandlere`,
  home: "Til forsiden",
  topics: {
    subprocessors: "Ændringer i listen over underdatabehandlere",
    dpa: "Nye versioner af databehandleraftalen",
  },
  status: {
    pending: "Afventer bekræftelse",
    confirmed: "Aktivt abonnement",
    unsubscribed: "Afmeldt",
    suppressed: "Sat på pause, fordi e-mails til adressen ikke kunne leveres",
  },
  confirmPage: {
    title: "Bekræft dit abonnement",
    intro: `Tryk på knappen for at bekræfte, at du vil have besked på e-mail, når ${name} ændrer sine underdatabehandlere.`,
    scannerNote:
      "Vi beder dig trykke på en knap, så programmer, der automatisk åbner links i din indbakke, ikke kan tilmelde dig.",
    button: "Bekræft abonnement",
  },
  confirmedPage: {
    title: "Dit abonnement er bekræftet",
    body: "Tak. Vi har sendt dig en velkomstmail med et link, hvor du kan ændre eller opsige dit abonnement.",
  },
  managePage: {
    title: "Dit abonnement",
    intro: "Her kan du se og ændre, hvad vi sender dig, hente alt, hvad vi har gemt om dig, eller slette det.",
    address: "E-mailadresse",
    statusLabel: "Status",
    language: "Sprog i e-mails",
    topicsLegend: "Hvad vil du have besked om?",
    regionsLegend: "Hvilke kunderegioner gælder for dig?",
    cohortLegend: `Hvornår indgik din organisation sin kontrakt med ${name}?`,
    cohortUnknown: "Ved ikke (få rækkerne for alle kontrakter)",
    save: "Gem ændringer",
    saved: "Dine ændringer er gemt.",
    exportHeading: "Dine oplysninger",
    exportBody: "Hent alt, hvad vi har gemt om dit abonnement, som en JSON-fil.",
    exportButton: "Hent mine oplysninger",
    unsubscribeHeading: "Afmelding",
    unsubscribeBody: "Du får ikke flere e-mails fra os, men dine indstillinger gemmes, så du kan tilmelde dig igen.",
    unsubscribeButton: "Afmeld",
    resubscribeBody: "Du er afmeldt. Du kan tilmelde dig igen med de samme indstillinger.",
    resubscribeButton: "Tilmeld igen",
    suppressedBody:
      "Vi sender ikke længere til denne adresse, fordi en e-mail kom retur eller blev markeret som uønsket.",
    eraseHeading: "Slet mine oplysninger",
    eraseBody: "Sletter din adresse, dine indstillinger og alle links til dette abonnement. Det kan ikke fortrydes.",
    eraseButton: "Slet mine oplysninger",
  },
  unsubscribePage: {
    title: "Afmeld e-mails",
    body: `Tryk på knappen for at stoppe e-mails om ${nameGenDa} underdatabehandlere.`,
    button: "Afmeld",
    doneTitle: "Du er afmeldt",
    doneBody: "Du får ikke flere e-mails fra os. Du kan tilmelde dig igen når som helst.",
  },
  erasePage: {
    title: "Slet dine oplysninger?",
    body: "Vi sletter adressen herunder, dine indstillinger og alle links til abonnementet, med det samme og for altid. Vil du blot have færre e-mails, kan du afmelde dig i stedet.",
    button: "Ja, slet mine oplysninger",
    keep: "Nej, behold mit abonnement",
  },
  erasedPage: {
    title: "Dine oplysninger er slettet",
    body: "Vi har slettet din adresse og dine indstillinger. Links i tidligere e-mails virker ikke længere.",
  },
  errorPage: { title: "Noget gik galt", back: "Til forsiden" },
  errors: {
    generic: "Noget gik galt hos os. Prøv igen om lidt.",
    invalid_token: "Linket er ikke gyldigt. Det kan være forkert kopieret, eller abonnementet kan være slettet.",
    token_expired: "Linket er udløbet, fordi det er mere end 48 timer gammelt. Tilmeld dig igen for at få et nyt.",
    unauthorized: "Linket er ikke gyldigt. Brug linket i den seneste e-mail fra os.",
    invalid_input: "Nogle af oplysningerne i formularen kunne ikke bruges. Gå tilbage og prøv igen.",
    rate_limited: "Der er sendt for mange forespørgsler. Vent et minut, og prøv igen.",
    forbidden: "Forespørgslen blev afvist, fordi den ikke kom fra denne hjemmeside.",
    not_found: "Siden findes ikke.",
    conflict: "Det kan ikke lade sig gøre lige nu.",
  },
  languageNames: { da: "Dansk", en: "English" },
  email: {
    footerWhy: `Du får denne e-mail, fordi adressen er skrevet op til besked om ${nameGenDa} underdatabehandlere.`,
    unsubscribeLabel: "Afmeld",
    confirm: {
      subject: `Bekræft dit abonnement på ændringer hos ${name}`,
      preheader: "Ét klik mere, så er du tilmeldt.",
      intro: `Nogen, forhåbentlig dig, har bedt om at få besked, når ${name} ændrer sine underdatabehandlere. Åbn linket for at bekræfte:`,
      button: "Bekræft abonnement",
      expiry: "Linket virker i 48 timer.",
      ignore: "Har du ikke bedt om det, kan du se bort fra denne e-mail. Så sker der ikke mere.",
    },
    welcome: {
      subject: `Du er nu tilmeldt ændringer hos ${name}`,
      intro: `Tak for din bekræftelse. Du får en e-mail, når ${name} ændrer sine underdatabehandlere, med den opdaterede liste og fristen for indsigelser.`,
      summaryTopics: "Du får besked om",
      summaryRegions: "Kunderegioner",
      manage: "Du kan altid ændre dit abonnement, hente dine oplysninger eller slette dem her:",
      manageButton: "Administrer abonnement",
      keep: "Gem denne e-mail: linket er din adgang til abonnementet.",
    },
  },
};

const en: Strings = {
  skipLink: "Skip to content",
  siteName: `${name}: sub-processors`,
  home: "Go to the home page",
  topics: {
    subprocessors: "Changes to the list of sub-processors",
    dpa: "New versions of the data processing agreement",
  },
  status: {
    pending: "Waiting for confirmation",
    confirmed: "Active subscription",
    unsubscribed: "Unsubscribed",
    suppressed: "Paused because emails to this address could not be delivered",
  },
  confirmPage: {
    title: "Confirm your subscription",
    intro: `Press the button to confirm that you want an email whenever ${name} changes its sub-processors.`,
    scannerNote: "We ask for a button press so that programs which open links in your inbox cannot sign you up.",
    button: "Confirm subscription",
  },
  confirmedPage: {
    title: "Your subscription is confirmed",
    body: "Thank you. We have sent you a welcome email with a link where you can change or cancel your subscription.",
  },
  managePage: {
    title: "Your subscription",
    intro: "See and change what we send you, download everything we store about you, or erase it.",
    address: "Email address",
    statusLabel: "Status",
    language: "Language of emails",
    topicsLegend: "What would you like to hear about?",
    regionsLegend: "Which customer regions apply to you?",
    cohortLegend: `When did your organisation sign its contract with ${name}?`,
    cohortUnknown: "I don't know (get the rows for every contract)",
    save: "Save changes",
    saved: "Your changes have been saved.",
    exportHeading: "Your data",
    exportBody: "Download everything we store about your subscription as a JSON file.",
    exportButton: "Download my data",
    unsubscribeHeading: "Unsubscribe",
    unsubscribeBody: "You will get no more emails from us; your settings are kept so you can come back.",
    unsubscribeButton: "Unsubscribe",
    resubscribeBody: "You are unsubscribed. You can subscribe again with the same settings.",
    resubscribeButton: "Subscribe again",
    suppressedBody: "We no longer send to this address because an email bounced or was reported as unwanted.",
    eraseHeading: "Erase my data",
    eraseBody: "Deletes your address, your settings and every link to this subscription. This cannot be undone.",
    eraseButton: "Erase my data",
  },
  unsubscribePage: {
    title: "Unsubscribe from emails",
    body: `Press the button to stop emails about ${name}'s sub-processors.`,
    button: "Unsubscribe",
    doneTitle: "You are unsubscribed",
    doneBody: "You will get no more emails from us. You can subscribe again at any time.",
  },
  erasePage: {
    title: "Erase your data?",
    body: "We delete the address below, your settings and every link to this subscription, at once and for good. If you only want fewer emails, you can unsubscribe instead.",
    button: "Yes, erase my data",
    keep: "No, keep my subscription",
  },
  erasedPage: {
    title: "Your data has been erased",
    body: "We have deleted your address and your settings. Links in earlier emails no longer work.",
  },
  errorPage: { title: "Something went wrong", back: "Go to the home page" },
  errors: {
    generic: "Something went wrong on our side. Please try again in a moment.",
    invalid_token: "This link is not valid. It may have been copied incompletely, or the subscription was erased.",
    token_expired: "This link has expired because it is more than 48 hours old. Subscribe again to get a new one.",
    unauthorized: "This link is not valid. Please use the link in the most recent email from us.",
    invalid_input: "Some of the details in the form could not be used. Please go back and try again.",
    rate_limited: "Too many requests have been sent. Please wait a minute and try again.",
    forbidden: "The request was refused because it did not come from this website.",
    not_found: "This page does not exist.",
    conflict: "That is not possible right now.",
  },
  languageNames: { da: "Dansk", en: "English" },
  email: {
    footerWhy: `You receive this email because this address was signed up for notices about ${name}'s sub-processors.`,
    unsubscribeLabel: "Unsubscribe",
    confirm: {
      subject: `Confirm your subscription to ${name}'s sub-processor changes`,
      preheader: "One more click and you are signed up.",
      intro: `Someone, hopefully you, asked to be told when ${name} changes its sub-processors. Open the link to confirm:`,
      button: "Confirm subscription",
      expiry: "The link works for 48 hours.",
      ignore: "If you did not ask for this, ignore this email and nothing more will happen.",
    },
    welcome: {
      subject: `You are now subscribed to ${name}'s sub-processor changes`,
      intro: `Thank you for confirming. Whenever ${name} changes its sub-processors you will get an email with the updated list and the deadline for objections.`,
      summaryTopics: "You will hear about",
      summaryRegions: "Customer regions",
      manage: "You can change your subscription, download your data or erase it at any time here:",
      manageButton: "Manage subscription",
      keep: "Keep this email: the link is your way into the subscription.",
    },
  },
};

const BUNDLES: Record<Locale, Strings> = { da, en };

export function t(locale: Locale): Strings {
  return BUNDLES[locale];
}

export function regionName(id: string, locale: Locale): string {
  return vendor.regions.find((r) => r.id === id)?.name[locale] ?? id;
}

/** The name of a contract cohort (vendor.yaml), e.g. "Customers contracted on or before 5 July 2023". */
export function cohortName(id: string, locale: Locale): string {
  return vendor.cohorts.find((c) => c.id === id)?.name[locale] ?? id;
}

export function errorMessage(code: ErrorCode, locale: Locale): string {
  const strings = t(locale);
  return strings.errors[code] ?? strings.errors.generic;
}
