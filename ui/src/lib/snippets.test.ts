import { describe, expect, it } from "vitest";
import { SNIPPETS, buildSnippet, clientCurlSnippet, clientPostmanFileNames, clientPythonSnippet, curlSnippet, httpieSnippet, postmanFileName, pythonSnippet, shellQuote } from "./snippets";

const token = "tsr_p_AbCdEf0123456789_-xyzXYZ0123456789ab_1a2b3c4d";
const base = "https://127.0.0.1:8443";

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("snippet builders", () => {
  it("every snippet contains the token exactly once", () => {
    for (const { kind } of SNIPPETS) {
      expect(count(buildSnippet(kind, token, base), token), kind).toBe(1);
    }
  });

  it("builds the Authorization header", () => {
    expect(buildSnippet("header", token, base)).toBe(`Authorization: Bearer ${token}`);
  });

  it("builds a curl command that trusts the exported CA and calls /v1/me", () => {
    expect(curlSnippet(token, base)).toBe(`curl --cacert tessera-ca.pem -H "Authorization: Bearer ${token}" ${base}/v1/me`);
    expect(curlSnippet(token, `${base}/`)).toContain(`${base}/v1/me`);
  });

  it("builds Python requests code with the CA and a timeout", () => {
    const py = pythonSnippet(token, base);
    expect(py).toContain(`headers={"Authorization": "Bearer ${token}"}`);
    expect(py).toContain(`"${base}/v1/me"`);
    expect(py).toContain(`verify="tessera-ca.pem"`);
  });

  it("builds an HTTPie command", () => {
    expect(httpieSnippet(token, base)).toBe(`http --verify=tessera-ca.pem GET ${base}/v1/me "Authorization:Bearer ${token}"`);
  });

  it("quotes shell words safely", () => {
    expect(shellQuote("plain")).toBe("plain");
    expect(shellQuote("has space")).toBe(`"has space"`);
    expect(shellQuote("$(rm -rf ~)")).toBe(`'$(rm -rf ~)'`);
    expect(shellQuote(`it's "x" $y`)).toBe(`'it'\\''s "x" $y'`);
    expect(shellQuote("")).toBe(`""`);
  });

  it("keeps a hostile base URL from breaking out of its quotes", () => {
    const curl = curlSnippet(token, "https://x/`id`");
    expect(curl).toContain("'https://x/`id`/v1/me'");
    const py = pythonSnippet(token, 'https://x/"); import os #');
    expect(py).toContain('"https://x/\\"); import os #/v1/me"');
  });

  it("proposes a safe Postman file name", () => {
    expect(postmanFileName("CI deploy")).toBe("tessera-CI-deploy.postman_environment.json");
    expect(postmanFileName("../../etc/passwd")).toBe("tessera-etc-passwd.postman_environment.json");
    expect(postmanFileName("<img>")).toBe("tessera-img.postman_environment.json");
    expect(postmanFileName("")).toBe("tessera-token.postman_environment.json");
  });
});

describe("OAuth client snippets", () => {
  it("asks for a token with the client's credentials, quoted once", () => {
    const s = clientCurlSnippet("tsc_abc", "tsr_s_x$y", "https://127.0.0.1:8443/");
    expect(s).toBe("curl --cacert tessera-ca.pem -u 'tsc_abc:tsr_s_x$y' -d grant_type=client_credentials https://127.0.0.1:8443/oauth/token");
    expect(clientPythonSnippet("tsc_abc", "tsr_s_1", "https://h:1")).toContain('auth=("tsc_abc", "tsr_s_1")');
  });
  it("names both Postman files after the client", () => {
    expect(clientPostmanFileNames("billing sync")).toEqual({
      environment: "tessera-billing-sync.postman_environment.json",
      collection: "tessera-billing-sync.postman_collection.json",
    });
  });
});
