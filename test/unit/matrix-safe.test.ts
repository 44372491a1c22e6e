// Parley's own room state goes to Matrix as canonical JSON: no floats, no integers past 2^53.
import { expect, it } from "vitest";
import { matrixSafe } from "../../src/domain/moderation/settings.ts";

it("keeps safe integers and turns other numbers into strings, however deep", () => {
  expect(
    matrixSafe({
      slow_mode: 30,
      required_claim: { name: "tier", value: -1.2123613841175811e89 },
      list: [1.5, 2],
    }),
  ).toEqual({
    slow_mode: 30,
    required_claim: { name: "tier", value: "-1.2123613841175811e+89" },
    list: ["1.5", 2],
  });
  expect(matrixSafe(2 ** 53)).toBe(String(2 ** 53));
  expect(matrixSafe(null)).toBeNull();
});
