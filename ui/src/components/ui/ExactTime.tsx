import { formatExact, parseDate } from "../../lib/dates";
import { RelativeTime } from "./RelativeTime";

/** A moment as "in 3 days (Saturday, January 2, 2027 at 5:33 AM UTC)"; `empty` (when given)
 *  stands in for no moment. */
export function ExactTime({ value, empty }: { value: string | null; empty?: string }) {
  const d = parseDate(value);
  if (d) {
    return (
      <>
        <RelativeTime value={value} /> <span className="muted small">({formatExact(d)})</span>
      </>
    );
  }
  return empty === undefined ? null : <span className="muted">{empty}</span>;
}
