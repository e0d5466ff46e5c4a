// Which store this window works on: this computer's, or a team server's. A team server's
// certificate is shown to compare with the fingerprint `tessera serve` printed before it is
// trusted (again, after its administrator replaced it); the choice takes effect when Tessera
// starts again, which one button does.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { ServerCertificate } from "../../bindings/ServerCertificate";
import { ErrorBanner } from "../../components/ui/ErrorBanner";
import { Field } from "../../components/ui/Field";
import * as ipc from "../../lib/ipc";
import { statusKey } from "../../app/queryClient";

const connectionKey = ["connection"] as const;

type Props = {
  /** The address to start from (the window's own team server). */
  initialUrl?: string;
  /** The window could not connect to its team server as it started: trusting its
   *  certificate connects it, with no restart. */
  unconnected?: boolean;
};

export function ConnectionPanel({ initialUrl = "", unconnected = false }: Props) {
  const qc = useQueryClient();
  const connection = useQuery({ queryKey: connectionKey, queryFn: ipc.getConnection });
  const [url, setUrl] = useState(initialUrl);
  const [cert, setCert] = useState<ServerCertificate | null>(null);
  const [same, setSame] = useState(false);
  const fetchCert = useMutation({
    mutationFn: ipc.fetchServerCertificate,
    onSuccess: (c) => {
      setCert(c);
      setSame(false);
    },
  });
  const choose = useMutation({
    mutationFn: (c: ServerCertificate) => ipc.useTeamServer(c.url, c.fingerprint),
    onSuccess: (c) => {
      qc.setQueryData(connectionKey, c);
      setCert(null);
      // A window that could not connect as it started is connected now: on to sign-in.
      void qc.invalidateQueries({ queryKey: statusKey });
    },
  });
  const local = useMutation({
    mutationFn: ipc.useThisComputer,
    onSuccess: (c) => qc.setQueryData(connectionKey, c),
  });
  const restart = useMutation({ mutationFn: ipc.restartApp });
  const c = connection.data;
  const now = c?.teamUrl ? `the team server ${c.teamUrl}` : "this computer";
  const next = c?.nextTeamUrl ? `the team server ${c.nextTeamUrl}` : "this computer";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    fetchCert.mutate(url.trim());
  };

  return (
    <section className="card section" aria-labelledby="connection-h">
      <h2 id="connection-h">Connection</h2>
      <ErrorBanner error={connection.error} />
      {c && unconnected && <p>This window is not connected to a store yet.</p>}
      {c && !unconnected && (
        <p>
          This window works on <strong>{now}</strong>.
          {c.restartNeeded && (
            <>
              {" "}
              {next === now ? (
                <>From the next start it will trust the certificate you confirmed.</>
              ) : (
                <>
                  From the next start it will work on <strong>{next}</strong>.
                </>
              )}
            </>
          )}
        </p>
      )}
      {c?.setByEnvironment && (
        <p className="muted">
          <span className="mono">TESSERA_SERVER_URL</span> is set where Tessera runs, so it decides the server; what you choose here applies once it is
          unset. A certificate you trust here is used either way.
        </p>
      )}
      {c?.restartNeeded && !unconnected && (
        <div className="restart-row">
          <button className="btn primary" type="button" disabled={restart.isPending || restart.isSuccess} onClick={() => restart.mutate()}>
            {restart.isPending || restart.isSuccess ? "Restarting…" : "Restart Tessera now"}
          </button>
          <ErrorBanner error={restart.error} />
        </div>
      )}
      <form onSubmit={submit} noValidate aria-label="Team server">
        <Field label="Team server address" hint="Like https://tessera.example.com:8443, as its administrator gave it.">
          <input value={url} onChange={(e) => setUrl(e.target.value)} inputMode="url" autoComplete="url" />
        </Field>
        <button className="btn" type="submit" disabled={fetchCert.isPending || !url.trim()} aria-busy={fetchCert.isPending}>
          {fetchCert.isPending ? "Connecting…" : "Show its certificate"}
        </button>
      </form>
      <ErrorBanner error={fetchCert.error} />
      {cert && (
        <div className="confirm-cert" role="group" aria-label="The server's certificate">
          <p>
            <span className="mono">{cert.url}</span> presents a certificate with this SHA-256 fingerprint:
          </p>
          <p className="mono fingerprint">{cert.fingerprint}</p>
          <label className="check">
            <input type="checkbox" checked={same} onChange={(e) => setSame(e.target.checked)} />
            <span>
              It is the same as the fingerprint <span className="mono">tessera serve</span> printed
            </span>
          </label>
          <button className="btn primary" type="button" disabled={!same || choose.isPending} onClick={() => choose.mutate(cert)}>
            Trust it and use this server
          </button>
          <ErrorBanner error={choose.error} />
        </div>
      )}
      {c?.nextTeamUrl && !c.setByEnvironment && (
        <button className="btn" type="button" disabled={local.isPending} onClick={() => local.mutate()}>
          Use this computer instead
        </button>
      )}
      <ErrorBanner error={local.error} />
    </section>
  );
}
