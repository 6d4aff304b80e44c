import type { NoticeTopic } from "../domain/notice.ts";
import type { Locale } from "../domain/schema/common.ts";
import type { WebhookUrlRule } from "../domain/webhook-url.ts";

// Every sentence a reader sees, on the site, on the worker's own pages and in the emails, in both languages: one
// interface, so a missing translation is a type error and a language cannot be half translated. Content text
// (purposes, summaries, the DPA) comes from content/; legal vocabulary (mechanisms, relationships, applicability)
// from domain/labels.ts. A sentence naming the vendor takes its name, so these bundles need no vendor file.

export interface Strings {
  /** The site's chrome (header, navigation, footer), the same on the worker's pages. */
  switchTo: string;
  switchToLabel: string;
  skip: string;
  navLabel: string;
  nav: {
    list: string;
    annex: string;
    changes: string;
    dpa: string;
    subscribe: string;
    about: string;
  };
  footer: {
    processor: string;
    privacy: string;
    exports: string;
    noCookies: string;
  };
  list: {
    title: string;
    intro: (vendor: string, date: string) => string;
    regionFilter: string;
    subscribeCta: string;
    annexCta: string;
    allRegions: string;
    upcoming: string;
    noUpcoming: string;
    current: string;
    regionTitle: (region: string) => string;
    regionIntro: (region: string, date: string) => string;
    cohortHeading: (cohort: string) => string;
    noneForCohort: string;
  };
  table: {
    caption: string;
    name: string;
    entity: string;
    purpose: string;
    locations: string;
    mechanism: string;
    appliesTo: string;
    relationship: string;
    effective: string;
    deadline: string;
    change: string;
    announced: string;
    kind: string;
    subprocessors: string;
    summary: string;
  };
  sp: {
    facts: string;
    legalName: string;
    address: string;
    registration: string;
    website: string;
    contact: string;
    relationship: string;
    purpose: string;
    services: string;
    dataCategories: string;
    where: string;
    location: string;
    note: string;
    reference: string;
    history: string;
    removedSince: (date: string) => string;
    pendingFrom: (date: string) => string;
    stepRemoved: string;
    stepFirst: string;
    stepChanged: (fields: string) => string;
    explainedBy: string;
    lastKnown: string;
    chain: string;
    chainIntro: string;
    chainNone: string;
    ownList: string;
    checked: (date: string) => string;
  };
  changes: {
    title: string;
    intro: string;
    none: string;
    noticeTitle: (summary: string) => string;
    announced: string;
    effective: string;
    deadline: string;
    deadlineNote: (date: string, days: number) => string;
    kind: string;
    aspects: string;
    concerns: string;
    annexVersion: string;
    annexLink: (date: string) => string;
    dpaVersion: string;
    pending: string;
    inEffect: string;
    details: string;
    annexDiff: string;
    receivedOn: (date: string) => string;
    deadlineExplained: (days: number) => string;
    heading: (names: string, kind: string, date: string) => string;
  };
  annex: {
    title: string;
    intro: (date: string) => string;
    takesEffect: (date: string) => string;
    pendingRemoval: (date: string) => string;
    pendingRemovals: string;
    fingerprint: string;
    fingerprintHelp: string;
    versions: string;
    version: (date: string) => string;
    versionIntro: (date: string) => string;
    future: string;
    superseded: (date: string) => string;
    currentVersion: string;
    download: string;
    json: string;
    csv: string;
    feed: string;
    whatChanged: string;
    firstVersion: string;
    previous: (date: string) => string;
    added: string;
    removed: string;
    changed: string;
    before: string;
    after: string;
    locationAdded: string;
    locationRemoved: string;
    locationReapplied: string;
    noDiff: string;
    printHint: string;
  };
  dpa: {
    title: string;
    current: string;
    archive: string;
    archived: string;
    archivedNote: (from: string, until: string) => string;
    currentNote: (from: string) => string;
    futureNote: (from: string) => string;
    period: string;
    from: (date: string) => string;
    fromUntil: (from: string, until: string) => string;
    noText: string;
    none: string;
    readCurrent: string;
    notInLocale: string;
    languageNote: string;
    otherLanguage: string;
  };
  subscribe: {
    title: string;
    intro: string;
    email: string;
    topics: string;
    regions: string;
    cohort: (vendor: string) => string;
    cohortUnknown: string;
    honeypot: string;
    submit: string;
    howTitle: string;
    how: string[];
    checkTitle: string;
    check: string;
    errorTitle: string;
    error: string;
    tryAgain: string;
  };
  about: {
    title: string;
    noticeHeading: string;
    notice: (days: number) => string;
    objectionHeading: string;
    objection: (days: number) => string;
    daysHeading: string;
    days: string;
    customaryDays: (days: string) => string;
    closedIn: (year: number) => string;
    publicHoliday: string;
    customary: string;
    verifyHeading: string;
    verify: string;
    verifyCommand: string;
    publications: string;
  };
  notFound: {
    title: string;
    body: string;
    /** The worker's own pages: confirm, manage, unsubscribe, erase. */
    home: string;
  };
  misc: {
    yes: string;
    no: string;
    none: string;
    open: string;
  };
  home: string;
  /** One label per topic, on the sign-up form, the manage page and in the welcome email. */
  topics: Record<NoticeTopic, string>;
  /** A subscription's status, as the manage page shows it. */
  status: {
    pending: string;
    confirmed: string;
    unsubscribed: string;
    suppressed: string;
  };
  confirmPage: {
    title: string;
    intro: (vendor: string) => string;
    scannerNote: string;
    button: string;
  };
  confirmedPage: {
    title: string;
    body: string;
  };
  managePage: {
    title: string;
    intro: string;
    address: string;
    statusLabel: string;
    language: string;
    topicsLegend: string;
    regionsLegend: string;
    cohortLegend: (vendor: string) => string;
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
  unsubscribePage: {
    title: string;
    body: (vendor: string) => string;
    button: string;
    doneTitle: string;
    doneBody: string;
  };
  erasePage: {
    title: string;
    body: string;
    button: string;
    keep: string;
  };
  erasedPage: {
    title: string;
    body: string;
  };
  /** The manage page's "Webhooks" section and the pages its forms answer with (README "Webhooks"). */
  webhooks: {
    heading: string;
    intro: string;
    none: string;
    urlLabel: string;
    urlHint: string;
    descriptionLabel: string;
    regionsLegend: string;
    regionsHint: string;
    cohortLegend: string;
    cohortAny: string;
    add: string;
    status: Record<"pending" | "active" | "disabled", string>;
    statusLabel: string;
    lastTest: string;
    neverTested: string;
    lastDelivery: string;
    deliveryStatus: Record<"pending" | "sending" | "delivered" | "failed", string>;
    noDeliveries: string;
    test: string;
    rotate: string;
    remove: string;
    tested: string;
    removed: string;
    secretTitleCreated: string;
    secretTitleRotated: string;
    secretLabel: string;
    copyNow: string;
    previousValid: (until: string) => string;
    verifyHint: string;
    back: string;
    errorTitle: string;
    /** Why a URL was refused, per rule of the URL guard (domain/webhook-url.ts). */
    urlRules: Record<WebhookUrlRule, string>;
    capReached: (max: number) => string;
  };
  errorPage: {
    title: string;
    back: string;
  };
  /** The answer to an API error code, for people; `generic` for any code without its own sentence. */
  errors: {
    generic: string;
    invalid_token: string;
    token_expired: string;
    unauthorized: string;
    invalid_input: string;
    rate_limited: string;
    forbidden: string;
    not_found: string;
    conflict: string;
  };
  /** Each language by its own name (the language switch, the manage page's language choice). */
  languageNames: Record<Locale, string>;
  email: {
    footerWhy: (vendor: string) => string;
    unsubscribeLabel: string;
    confirm: {
      subject: (vendor: string) => string;
      preheader: string;
      intro: (vendor: string) => string;
      button: string;
      expiry: string;
      ignore: string;
    };
    welcome: {
      subject: (vendor: string) => string;
      intro: (vendor: string) => string;
      summaryTopics: string;
      summaryRegions: string;
      manage: string;
      manageButton: string;
      keep: string;
    };
  };
  /** The Atom feed of changes (/feed.xml). */
  feed: {
    title: (vendor: string) => string;
    description: (legalEntity: string) => string;
    takesEffect: (date: string) => string;
    announced: (announced: string, effective: string) => string;
    /** "Read in this language", written in that language: the link to the entry's page in it. */
    readHere: string;
    changeEvent: string;
    versionJson: string;
  };
  /** The change notice email (DPA 5.2 notice, 5.3 objection deadline). */
  notice: {
    subject: (vendor: string, date: string | undefined) => string;
    subjectDpa: (vendor: string) => string;
    preheader: (deadline: string) => string;
    intro: (vendor: string) => string;
    regions: (names: string) => string;
    allRegions: string;
    cohort: (name: string) => string;
    whatChanged: string;
    added: (name: string) => string;
    removed: (name: string) => string;
    changedFields: (name: string, fields: string) => string;
    locationAdded: (where: string) => string;
    chain: string;
    chainList: (url: string, date: string) => string;
    chainAdded: (name: string, sub: string) => string;
    locationRemoved: (where: string) => string;
    locationReapplied: (where: string, before: string, after: string) => string;
    dpaAdded: (version: string, date: string) => string;
    effective: string;
    effectiveFrom: (date: string) => string;
    deadlineHeading: string;
    deadline: (date: string, days: number) => string;
    objectButton: string;
    calendar: string;
    annexHeading: string;
    annexIntro: string;
    colName: string;
    colEntity: string;
    colPurpose: string;
    colLocations: string;
    since: string;
    pageLink: string;
    jsonLink: string;
    fingerprint: (fp: string) => string;
    previous: (fp: string) => string;
    publication: (n: number) => string;
    footer: (vendor: string) => string;
    footerContact: (vendor: string) => string;
    manage: string;
    unsubscribe: string;
    questions: (mail: string) => string;
  };
  /** The receipt a subscriber gets for an objection. */
  objectionReceipt: {
    subject: (vendor: string) => string;
    body: (organisation: string, publication: string, receivedAt: string, deadline: string) => string;
    next: (vendor: string, mail: string) => string;
    reason: string;
    ref: string;
    manage: string;
  };
  /** The objection form the notice's button opens, and the page after it. */
  objectionPage: {
    title: (id: number) => string;
    intro: (vendor: string) => string;
    deadline: (date: string) => string;
    closed: (date: string) => string;
    /** On behalf of a customer, with a signed receipt. */
    customerIntro: (vendor: string, customer: string) => string;
    /** A customer's objection after its deadline is still recorded, marked late (DPA 5.3). */
    customerLate: (date: string) => string;
    changes: string;
    customerChanges: string;
    effective: (date: string) => string;
    organisation: string;
    reason: string;
    submit: string;
    fingerprint: string;
    doneTitle: string;
    done: string;
    doneLate: string;
  };
  /** The subscriber's own objection deadline as a calendar event. */
  deadlineCalendar: {
    title: (id: number, vendor: string) => string;
    description: (days: number, delivered: string, mail: string) => string;
  };
  /** To the owner of a webhook endpoint that was disabled after three publications in a row failed. */
  webhookDisabled: {
    subject: (vendor: string) => string;
    body: (url: string, publications: number) => string;
    next: string;
    manage: string;
  };
}
