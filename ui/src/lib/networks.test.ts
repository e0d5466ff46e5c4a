import { describe, expect, it } from "vitest";
import { checkNetwork, parseNetworks } from "./networks";

describe("network validation", () => {
  it.each([
    "10.0.0.1",
    "0.0.0.0/0",
    "192.168.1.0/24",
    "255.255.255.255/32",
    "::1",
    "::",
    "::/0",
    "2001:db8::/32",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "fe80::1:2:3:4",
    "::ffff:192.0.2.128",
    "64:ff9b::192.0.2.33/96",
    "1:2:3:4:5:6:7::",
    " 10.1.2.3 ",
  ])("accepts %s", (entry) => {
    expect(checkNetwork(entry).ok).toBe(true);
  });

  it.each([
    "",
    "10.0.0",
    "10.0.0.256",
    "10.0.0.01",
    "10.0.0.1/33",
    "10.0.0.1/",
    "10.0.0.1/-1",
    "2001:db8::/129",
    "2001:db8:::1",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "fe80::1%eth0",
    "example.com",
    "::ffff:1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
  ])("refuses %j", (entry) => {
    expect(checkNetwork(entry).ok).toBe(false);
  });

  it("parses one entry per line, skips blank lines and reports errors by line", () => {
    const r = parseNetworks("10.0.0.0/8\n\n  bad  \n::1\r\n");
    expect(r.networks).toEqual(["10.0.0.0/8", "::1"]);
    expect(r.errors).toEqual([{ line: 3, text: "bad", error: expect.stringContaining("not an IPv4 or IPv6") }]);
  });
});
