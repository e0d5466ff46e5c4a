import { describe, expect, it } from "vitest";
import { formatDetails } from "./auditQuery";

describe("formatDetails", () => {
  it("shows a JSON object as key: value pairs, arrays space-separated", () => {
    expect(formatDetails('{"from":"user","to":"vrm_admin"}')).toBe("from: user, to: vrm_admin");
    expect(formatDetails('{"name":"CI","scopes":["verify","me:read"]}')).toBe("name: CI, scopes: verify me:read");
  });

  it("shows empty objects as nothing and anything else as it is", () => {
    expect(formatDetails("{}")).toBe("");
    expect(formatDetails("not json")).toBe("not json");
    expect(formatDetails('"text"')).toBe("text");
  });
});
