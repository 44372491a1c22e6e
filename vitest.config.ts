import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          // The domain, router and a real WebSocket server, with a fake homeserver: no Synapse.
          name: "middle",
          include: ["test/middle/**/*.test.ts"],
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // One Synapse and one appservice port for the run: end-to-end files take turns.
          globalSetup: ["test/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          // The same Synapse setup as e2e: browser tests drive Parley against a real homeserver.
          globalSetup: ["test/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
