// Allowed-network validation as the user types: an IPv4 or IPv6 address, optionally with a
// CIDR prefix. Mirrors what the backend accepts (std's address parsers: no leading zeros in
// IPv4 octets, no zone ids).

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  return parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIpv6(text: string): boolean {
  if (text.includes("%")) return false;
  let groups = text;
  let tailGroups = 0;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    if (!isIpv4(text.slice(lastColon + 1))) return false;
    // Keep the ':' so "::1.2.3.4" still splits into an empty group before the IPv4 tail.
    groups = text.slice(0, lastColon + 1) + "0";
    tailGroups = 1; // the IPv4 tail is two groups; the "0" placeholder counts for one
  }
  const doubles = groups.split("::").length - 1;
  if (doubles > 1) return false;
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  if (doubles === 1) {
    const [head, tail] = groups.split("::");
    const h = head === "" ? [] : head.split(":");
    const t = tail === "" ? [] : tail.split(":");
    if (![...h, ...t].every((g) => hex.test(g))) return false;
    return h.length + t.length + tailGroups <= 7;
  }
  const parts = groups.split(":");
  return parts.length + tailGroups === 8 && parts.every((g) => hex.test(g));
}

export type NetworkCheck = { ok: true; value: string } | { ok: false; error: string };

/** Checks one entry: "10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1". */
export function checkNetwork(entry: string): NetworkCheck {
  const value = entry.trim();
  if (value === "") return { ok: false, error: "Empty entry." };
  const slash = value.indexOf("/");
  const address = slash >= 0 ? value.slice(0, slash) : value;
  const prefix = slash >= 0 ? value.slice(slash + 1) : null;
  const v4 = isIpv4(address);
  const v6 = !v4 && isIpv6(address);
  if (!v4 && !v6) return { ok: false, error: `"${address}" is not an IPv4 or IPv6 address.` };
  if (prefix !== null) {
    const max = v4 ? 32 : 128;
    if (!/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max) {
      return { ok: false, error: `The prefix length after "/" must be 0 to ${max}.` };
    }
  }
  return { ok: true, value };
}

export type NetworkLine = { line: number; text: string; error: string };

/** Splits a textarea (one entry per line, blank lines ignored) into entries and per-line errors. */
export function parseNetworks(text: string): { networks: string[]; errors: NetworkLine[] } {
  const networks: string[] = [];
  const errors: NetworkLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === "") return;
    const check = checkNetwork(raw);
    if (check.ok) networks.push(check.value);
    else errors.push({ line: i + 1, text: raw.trim(), error: check.error });
  });
  return { networks, errors };
}
