// A simple, local password strength hint (length and variety, with a penalty for obvious
// patterns). The backend enforces the real rule; this only guides the person typing.

export const MIN_PASSWORD_LENGTH = 12;

export type Strength = { score: 0 | 1 | 2 | 3 | 4; label: string; hint: string };

const COMMON = ["password", "passwort", "qwerty", "123456", "letmein", "welcome", "admin", "tessera", "iloveyou"];

export function passwordStrength(password: string): Strength {
  if (password.length === 0) return { score: 0, label: "Empty", hint: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  if (password.length < MIN_PASSWORD_LENGTH) {
    return { score: 0, label: "Too short", hint: `${MIN_PASSWORD_LENGTH - password.length} more characters needed (at least ${MIN_PASSWORD_LENGTH}).` };
  }
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  let points = classes + (password.length >= 16 ? 1 : 0) + (password.length >= 20 ? 1 : 0);
  const lower = password.toLowerCase();
  if (COMMON.some((w) => lower.includes(w))) points -= 2;
  if (/(.)\1{2,}/.test(password)) points -= 1;
  if (new Set(password).size < password.length / 3) points -= 1;
  const score = Math.max(1, Math.min(4, points - 1)) as 1 | 2 | 3 | 4;
  const labels = { 1: "Weak", 2: "Fair", 3: "Good", 4: "Strong" } as const;
  const hint =
    score >= 3
      ? "A password manager can remember it for you."
      : "Make it longer, or mix in words, capitals, digits and symbols; avoid common words and repeats.";
  return { score, label: labels[score], hint };
}
