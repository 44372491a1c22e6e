import { MatrixError } from "@vector-im/matrix-bot-sdk";
import { describe, expect, it } from "vitest";
import {
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../../src/domain/ports/matrix.ts";
import { retryWhenRateLimited } from "../../src/domain/retry.ts";
import { translateMatrixError } from "../../src/matrix/errors.ts";

const matrixError = (status: number, body: Record<string, unknown>) =>
  new MatrixError(body as { errcode: string; error: string }, status, {});

describe("homeserver errors keep their meaning", () => {
  it("429 and M_LIMIT_EXCEEDED become rate limits with the homeserver's wait", () => {
    const limited = translateMatrixError(
      matrixError(429, { errcode: "M_LIMIT_EXCEEDED", error: "slow", retry_after_ms: 1234 }),
    );
    expect(limited).toBeInstanceOf(UpstreamRateLimitedError);
    expect((limited as UpstreamRateLimitedError).retryAfterMs).toBe(1234);
    const unsaid = translateMatrixError(matrixError(429, { errcode: "M_LIMIT_EXCEEDED", error: "slow" }));
    expect((unsaid as UpstreamRateLimitedError).retryAfterMs).toBe(1000);
  });

  it("5xx and network failures are unavailable; other 4xx are refusals with their code", () => {
    expect(
      translateMatrixError(matrixError(502, { errcode: "M_UNKNOWN", error: "bad gateway" })),
    ).toBeInstanceOf(UpstreamUnavailableError);
    expect(translateMatrixError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBeInstanceOf(
      UpstreamUnavailableError,
    );
    const refused = translateMatrixError(matrixError(404, { errcode: "M_NOT_FOUND", error: "no event" }));
    expect(refused).toMatchObject({ errcode: "M_NOT_FOUND", status: 404 });
    expect(refused).toBeInstanceOf(UpstreamRejectedError);
  });

  it("work Parley does on its own waits out a 429 and tries again, a few times", async () => {
    let calls = 0;
    const result = await retryWhenRateLimited(async () => {
      calls += 1;
      if (calls < 3) throw new UpstreamRateLimitedError(5);
      return "done";
    });
    expect(result).toBe("done");
    expect(calls).toBe(3);
    await expect(
      retryWhenRateLimited(async () => {
        throw new UpstreamRateLimitedError(1);
      }, 2),
    ).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    await expect(
      retryWhenRateLimited(async () => {
        throw new UpstreamUnavailableError("down");
      }),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});
