// The All tokens table's speed, as a benchmark rather than an assertion inside a functional
// test (`.ci/bench-ui`; CI does not run it). The built UI in Debian's Chromium with the fake
// backend, two ways in the same run:
//   baseline: the small set (15 tokens): open All tokens until the first row shows;
//   big:      100,000 tokens: open until the first row shows, then jump to the bottom until
//             row 100,000 shows.
// Printed: medians over the rounds, and the big/baseline ratios (the machine is noisy, so the
// ratio against a baseline measured alongside is the figure to compare across runs).
// Targets: first rows of 100,000 within 2x the 15-token baseline; the bottom within 3x.
import { startHarness } from "./harness";

const rounds = Number(process.env.ROUNDS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const h = await startHarness();
  const firstSmall: number[] = [];
  const firstBig: number[] = [];
  const bottomBig: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      for (const set of ["small", "100k"] as const) {
        const o = await h.open({ allTokens: set });
        const { page } = o;
        await page.getByRole("heading", { name: "Dashboard" }).waitFor({ timeout: 15_000 });
        const t0 = performance.now();
        await page.getByRole("navigation").getByRole("button", { name: "All tokens" }).click();
        await page.locator('[role="row"][data-token-id]').first().waitFor({ timeout: 15_000 });
        const first = performance.now() - t0;
        if (set === "small") firstSmall.push(first);
        else {
          firstBig.push(first);
          const t1 = performance.now();
          await page.locator(".vt-scroll").evaluate((el) => el.scrollTo(0, el.scrollHeight));
          await page.locator('[role="row"][data-index="99999"][data-token-id]').waitFor({ timeout: 15_000 });
          bottomBig.push(performance.now() - t1);
        }
        await o.context.close();
      }
    }
  } finally {
    await h.close();
  }
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const [s, b, bottom] = [median(firstSmall), median(firstBig), median(bottomBig)];
  console.log(`rounds ${rounds}`);
  console.log(`baseline: 15 tokens, first row            ${ms(s)}`);
  console.log(`100,000 tokens, first row                 ${ms(b)}  ratio ${(b / s).toFixed(2)}x (target <= 2x)`);
  console.log(`100,000 tokens, jump to the bottom row    ${ms(bottom)}  ratio ${(bottom / s).toFixed(2)}x (target <= 3x)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
