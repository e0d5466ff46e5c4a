import { formError } from "../../lib/errors";

export function ErrorBanner({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  const { message } = formError(error);
  return (
    <div className="banner banner-error" role="alert">
      {prefix ? `${prefix}: ` : ""}
      {message}
    </div>
  );
}
