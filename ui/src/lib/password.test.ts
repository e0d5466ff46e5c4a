import { describe, expect, it } from "vitest";
import { passwordStrength } from "./password";

describe("password strength hint", () => {
  it("calls anything under 12 characters too short", () => {
    expect(passwordStrength("Ab1!Ab1!Ab1").label).toBe("Too short");
    expect(passwordStrength("").score).toBe(0);
  });

  it("rates long varied passwords above short plain ones", () => {
    expect(passwordStrength("correct horse battery staple 42!").score).toBe(4);
    expect(passwordStrength("abcdefghijkl").score).toBeLessThanOrEqual(1);
  });

  it("penalises common words and repeats", () => {
    expect(passwordStrength("Password1234!").score).toBeLessThan(passwordStrength("Kettle7!Marsh9").score);
    expect(passwordStrength("aaaaaaaaaaaaaaaa").label).toBe("Weak");
  });
});
