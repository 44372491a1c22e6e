// What the end-to-end global setup shares with the test files.
export interface E2EEnv {
  /** Scratch directory of this run (under .test-data/). */
  readonly root: string;
  readonly homeserverUrl: string;
  readonly serverName: string;
  readonly appservicePort: number;
  readonly registrationPath: string;
  readonly jwtSecret: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    e2e: E2EEnv;
  }
}
