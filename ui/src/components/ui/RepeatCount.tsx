/**
 * "×240" after a usage row that stands for several identical requests in the same second
 * (the backend folds them into one row); nothing for a single request.
 */
export function RepeatCount({ uses }: { uses: number }) {
  if (uses <= 1) return null;
  const text = `${uses.toLocaleString()} identical requests in this second`;
  return (
    <span className="muted small nowrap" title={text} aria-label={text}>
      {" "}
      ×{uses.toLocaleString()}
    </span>
  );
}
