// "Copy as" snippet builders for the one-time reveal dialog. Each puts the token in exactly
// once and quotes it for its language, so a pasted snippet works as is.

const SAFE_SHELL_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: bare when harmless, double quotes when nothing inside expands, else single quotes. */
export function shellQuote(value: string): string {
  if (value !== "" && SAFE_SHELL_WORD.test(value)) return value;
  if (!/["$`\\!\n]/.test(value)) return `"${value}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A Python string literal (JSON string syntax is valid Python for these characters). */
export function pythonString(value: string): string {
  return JSON.stringify(value);
}

export function meUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/me`;
}

export const CA_FILE = "tessera-ca.pem";

export function authorizationHeader(token: string): string {
  return `Authorization: Bearer ${token}`;
}

export function curlSnippet(token: string, baseUrl: string): string {
  return `curl --cacert ${CA_FILE} -H ${shellQuote(authorizationHeader(token))} ${shellQuote(meUrl(baseUrl))}`;
}

export function pythonSnippet(token: string, baseUrl: string): string {
  return [
    "import requests",
    "",
    "response = requests.get(",
    `    ${pythonString(meUrl(baseUrl))},`,
    `    headers={"Authorization": ${pythonString(`Bearer ${token}`)}},`,
    `    verify=${pythonString(CA_FILE)},`,
    "    timeout=10,",
    ")",
    "response.raise_for_status()",
    "print(response.json())",
    "",
  ].join("\n");
}

export function httpieSnippet(token: string, baseUrl: string): string {
  return `http --verify=${CA_FILE} GET ${shellQuote(meUrl(baseUrl))} ${shellQuote(`Authorization:Bearer ${token}`)}`;
}

export type SnippetKind = "header" | "curl" | "python" | "httpie";

export const SNIPPETS: readonly { kind: SnippetKind; label: string }[] = [
  { kind: "header", label: "Authorization header" },
  { kind: "curl", label: "curl" },
  { kind: "python", label: "Python requests" },
  { kind: "httpie", label: "HTTPie" },
];

export function buildSnippet(kind: SnippetKind, token: string, baseUrl: string): string {
  switch (kind) {
    case "header":
      return authorizationHeader(token);
    case "curl":
      return curlSnippet(token, baseUrl);
    case "python":
      return pythonSnippet(token, baseUrl);
    case "httpie":
      return httpieSnippet(token, baseUrl);
  }
}

export function tokenUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/oauth/token`;
}

/** An OAuth client's token request with curl (client_secret_basic). */
export function clientCurlSnippet(clientId: string, secret: string, baseUrl: string): string {
  return `curl --cacert ${CA_FILE} -u ${shellQuote(`${clientId}:${secret}`)} -d grant_type=client_credentials ${shellQuote(tokenUrl(baseUrl))}`;
}

/** The same with Python's requests. */
export function clientPythonSnippet(clientId: string, secret: string, baseUrl: string): string {
  return [
    "import requests",
    "",
    "response = requests.post(",
    `    ${pythonString(tokenUrl(baseUrl))},`,
    `    auth=(${pythonString(clientId)}, ${pythonString(secret)}),`,
    `    data={"grant_type": "client_credentials"},`,
    `    verify=${pythonString(CA_FILE)},`,
    "    timeout=10,",
    ")",
    "response.raise_for_status()",
    'print(response.json()["access_token"])',
    "",
  ].join("\n");
}

/** The file names the save dialog proposes for an OAuth client's Postman files. */
export function clientPostmanFileNames(clientName: string): { environment: string; collection: string } {
  const base = postmanFileName(clientName).replace(/\.postman_environment\.json$/, "");
  return { environment: `${base}.postman_environment.json`, collection: `${base}.postman_collection.json` };
}

/** The file name the save dialog proposes for a token's Postman environment. */
export function postmanFileName(tokenName: string): string {
  const slug = tokenName
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 60);
  return `tessera-${slug || "token"}.postman_environment.json`;
}
