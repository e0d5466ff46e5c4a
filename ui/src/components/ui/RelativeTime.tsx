import { formatExact, formatRelative, parseDate } from "../../lib/dates";
import { useNow } from "./useNow";

/** "3 hours ago" with the exact local date and time on hover; `empty` when there is no date. */
export function RelativeTime({ value, empty = "Never", short = false }: { value: string | null | undefined; empty?: string; short?: boolean }) {
  const now = useNow();
  const date = parseDate(value);
  if (!date) return <span className="muted">{empty}</span>;
  const exact = formatExact(date);
  return (
    <time dateTime={value ?? undefined} title={exact} aria-label={`${formatRelative(date, now)} (${exact})`}>
      {formatRelative(date, now, undefined, short ? "short" : "long")}
    </time>
  );
}
