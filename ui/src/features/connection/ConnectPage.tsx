// The first screen of a window that is to work on a team server it could not connect to as it
// started: no certificate confirmed yet (the first contact), another certificate than the one
// given, or no answer. Nothing else works until the person confirms the server's certificate.
import type { Unconnected } from "../../bindings/Unconnected";
import { ConnectionPanel } from "./ConnectionPanel";

export function ConnectPage({ unconnected }: { unconnected: Unconnected }) {
  return (
    <main className="center-page">
      <section className="card auth-card" aria-labelledby="connect-title">
        <h1 id="connect-title">Connect to your team server</h1>
        <p>
          Tessera is set to work on the team server <span className="mono">{unconnected.url}</span>, and has not connected to it yet.
        </p>
        <div className="banner banner-warning" role="status">
          {unconnected.problem}
        </div>
        <p className="muted">
          Show its certificate below and compare the fingerprint with the one <span className="mono">tessera serve</span> printed (ask the
          server's administrator). Trust it only if they are the same.
        </p>
        <ConnectionPanel initialUrl={unconnected.url} unconnected />
      </section>
    </main>
  );
}
