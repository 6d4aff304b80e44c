import type { Locale } from "../domain/schema/common.ts";

// Every link an email gives a subscriber, built in one place: the pages live on the portal (PUBLIC_BASE_URL), the
// token goes in the query, and the one-click address is the same in every email (RFC 8058, List-Unsubscribe).

export interface SubscriberLinks {
  /** The page with the confirm button (double opt-in: a link scanner cannot confirm). */
  confirm: string;
  /** Preferences, export and erasure. */
  manage: string;
  /** The human unsubscribe page. */
  unsubscribe: string;
  /** RFC 8058 one-click endpoint (POST), for List-Unsubscribe. */
  oneClickUnsubscribe: string;
}

export interface NoticeLinks extends SubscriberLinks {
  /** The objection form for this notice. */
  object: string;
  /** The subscriber's own objection deadline as an iCalendar file (Resend batch emails carry no attachments). */
  deadlineCalendar: string;
}

function url(baseUrl: string, path: string, query: Record<string, string>): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}?${new URLSearchParams(query).toString()}`;
}

export function subscriberLinks(baseUrl: string, locale: Locale, token: string): SubscriberLinks {
  return {
    confirm: url(baseUrl, `/${locale}/subscription/confirm`, { token }),
    manage: url(baseUrl, `/${locale}/subscription/manage`, { token }),
    unsubscribe: url(baseUrl, `/${locale}/subscription/unsubscribe`, { token }),
    oneClickUnsubscribe: url(baseUrl, "/api/subscriptions/unsubscribe", { token, locale }),
  };
}

/** The links of one subscriber's change notice; `token` is the manage token that notice carries. */
export function noticeLinks(baseUrl: string, locale: Locale, publicationId: number, token: string): NoticeLinks {
  return {
    ...subscriberLinks(baseUrl, locale, token),
    object: url(baseUrl, `/${locale}/subscription/object/${publicationId}`, { token }),
    deadlineCalendar: url(baseUrl, `/api/notices/${publicationId}/deadline.ics`, { token }),
  };
}

/** The links of a customer contact's notice: the same objection form and deadline file; its own one-click unsubscribe. */
export function contactNoticeLinks(
  baseUrl: string,
  locale: Locale,
  publicationId: number,
  token: string,
): Omit<NoticeLinks, "confirm" | "manage"> {
  const unsubscribe = url(baseUrl, "/api/customers/contacts/unsubscribe", { token, locale });
  return {
    object: url(baseUrl, `/${locale}/subscription/object/${publicationId}`, { token }),
    unsubscribe,
    oneClickUnsubscribe: unsubscribe,
    deadlineCalendar: url(baseUrl, `/api/notices/${publicationId}/deadline.ics`, { token }),
  };
}
