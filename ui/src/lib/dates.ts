// Dates for people: relative ("3 hours ago", "in 30 days") with the exact local date and time
// kept for a hover title. The backend sends RFC 3339 strings in UTC.

// [unit, seconds per unit, shown from this many seconds]: days up to two months, because
// "in 30 days" says more about an expiry than "next month".
const UNITS: readonly [Intl.RelativeTimeFormatUnit, number, number][] = [
  ["year", 365 * 86_400, 365 * 86_400],
  ["month", 30 * 86_400, 60 * 86_400],
  ["day", 86_400, 86_400],
  ["hour", 3_600, 3_600],
  ["minute", 60, 45],
];

export function parseDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "3 hours ago", "in 30 days", "now" ("12 mo. ago" with style short, for narrow columns); `locale` is for tests, the UI uses the OS locale. */
export function formatRelative(date: Date, now: Date = new Date(), locale?: string, style: Intl.RelativeTimeFormatStyle = "long"): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style });
  if (abs < 45) return rtf.format(0, "second");
  for (const [unit, size, from] of UNITS) {
    if (abs >= from) {
      return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return rtf.format(Math.round(seconds / 60), "minute");
}

/** The full local date and time with zone, for titles and details. */
export function formatExact(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long" }).format(date);
}

/** A short local date and time, e.g. "1 Dec 2026, 10:30". */
export function formatShort(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Weekday, date and minute, e.g. "Friday, 22 January 2027 at 13:30", for a chosen expiry. */
export function formatLong(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short" }).format(date);
}
