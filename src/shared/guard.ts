// The error boundary for work nobody awaits (timers, intervals, background jobs): a failure is
// logged once and the process goes on. Without it, one throw in a timer would end the process.
interface ErrorLog {
  error(message: string, ...data: unknown[]): void;
}

export function guarded(log: ErrorLog, what: string, work: () => unknown): () => void {
  return () => {
    try {
      const result = work();
      if (result instanceof Promise) result.catch((error: unknown) => log.error(`${what} failed`, error));
    } catch (error) {
      log.error(`${what} failed`, error);
    }
  };
}
