-- why: several nodes share one store: a lease names the node doing a job (draining a channel's
-- outbox, processing the inbox) until it runs out, so each job has one worker at a time and is
-- taken over when that worker dies.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until BIGINT NOT NULL
);
