// The router: frame in, exactly one frame out. Auth guard, payload validation, and the mapping of
// every failure to an error code happen here, once, so handlers stay plain functions.

import {
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../domain/ports/matrix.ts";
import { type RateLimiter, type RateRule, rateLimited, takeOrThrow } from "../domain/ports/rate-limit.ts";
import type { Logger } from "../logging.ts";
import { isProtocolError, ProtocolError } from "../protocol/errors.ts";
import {
  errorFrame,
  type IncomingFrame,
  type OutgoingFrame,
  pushFrame,
  type Ref,
  successFrame,
} from "../protocol/frames.ts";
import { failingFields } from "../protocol/schemas.ts";
import { authenticate } from "./authenticate.ts";
import { channelActions } from "./channels.ts";
import type { Action, ActionLimit, Services, Session } from "./context.ts";
import { directActions } from "./direct.ts";
import { directoryActions } from "./directory.ts";
import { historyActions } from "./history.ts";
import { messageActions } from "./messages.ts";
import { moderationActions } from "./moderation.ts";
import { userActions } from "./users.ts";
import { webhookActions } from "./webhooks.ts";

// biome-ignore lint/suspicious/noExplicitAny: the table holds actions of different payload types
const ACTIONS: ReadonlyMap<string, Action<any>> = new Map(
  Object.entries({
    ...channelActions,
    ...messageActions,
    ...userActions,
    ...historyActions,
    ...moderationActions,
    ...directActions,
    ...directoryActions,
    ...webhookActions,
  }),
);

export const ACTION_NAMES: readonly string[] = [...ACTIONS.keys()];

/** Actions that name an event (a reply, an edit, a delete, a reaction). */
const EVENT_ACTIONS = new Set(["chat.send", "chat.react"]);

export interface Router {
  /** Never rejects: every outcome is a frame to send back (or none, for nothing). */
  handle(session: Session, frame: IncomingFrame): Promise<OutgoingFrame>;
  /** The connection is gone (its subscriptions are already dropped). */
  closed(session: Session): void;
}

/** The limits the router applies: every request, and the per-action ones (`Action.limit`). */
export interface RouterLimits extends Record<ActionLimit, RateRule> {
  readonly limiter: RateLimiter;
  readonly requests: RateRule;
}

export function createRouter(services: Services, limits: RouterLimits, log: Logger): Router {
  /** Failures keep their meaning: the homeserver's answers become the protocol's codes. */
  const toErrorPayload = (error: unknown, context: string): Record<string, unknown> => {
    if (isProtocolError(error)) return error.toPayload();
    if (error instanceof UpstreamUnavailableError) {
      return new ProtocolError("upstream.unavailable").toPayload();
    }
    if (error instanceof UpstreamRateLimitedError) {
      return rateLimited(error.retryAfterMs, "The homeserver asked to slow down.").toPayload();
    }
    if (error instanceof UpstreamRejectedError && error.status === 403) {
      return new ProtocolError("chat.denied", "The homeserver refused this action.").toPayload();
    }
    // Sends (replies, edits, deletes) and reactions name an event the homeserver may not know.
    // Anywhere else a 404 is unexpected: logged, and answered like any other surprise.
    if (
      error instanceof UpstreamRejectedError &&
      (error.status === 404 || error.errcode === "M_NOT_FOUND") &&
      EVENT_ACTIONS.has(context)
    ) {
      return new ProtocolError("chat.unknown_event", "The homeserver does not know that event.").toPayload();
    }
    log.error(`${context} failed`, error);
    return new ProtocolError("server.fatal").toPayload();
  };

  const invalidPayload = (fields: readonly string[]) =>
    new ProtocolError("protocol.invalid_payload", `Invalid payload: ${fields.join(", ")}.`, {
      fields,
    }).toPayload();

  const request = async (
    session: Session,
    action: string,
    ref: Ref,
    payload: Record<string, unknown>,
    invalidFields?: readonly string[],
  ) => {
    // Before authentication every action is refused alike: nothing reveals which ones exist.
    const user = session.user;
    if (!user) return errorFrame(ref, new ProtocolError("protocol.unauthenticated").toPayload());
    // One budget for all of a user's requests, whichever connection they come on.
    const budget = limits.limiter.take(`requests:${user.userId}`, limits.requests);
    if (!budget.ok) return errorFrame(ref, rateLimited(budget.retryAfterMs).toPayload());
    const definition = ACTIONS.get(action);
    if (!definition) {
      return errorFrame(
        ref,
        new ProtocolError("protocol.unknown_command", `Unknown action ${action}.`).toPayload(),
      );
    }
    if (invalidFields) return errorFrame(ref, invalidPayload(invalidFields));
    const parsed = definition.schema.safeParse(payload);
    if (!parsed.success) return errorFrame(ref, invalidPayload(failingFields(parsed.error)));
    try {
      const rule = definition.limit && limits[definition.limit];
      if (rule) takeOrThrow(limits.limiter, `${definition.limit}:${user.userId}`, rule);
      return successFrame(ref, await definition.handle({ session, user, services }, parsed.data));
    } catch (error) {
      return errorFrame(ref, toErrorPayload(error, action));
    }
  };

  return {
    closed(session) {
      if (!session.user) return;
      services.activity.connectionClosed(session.user.userId);
      const userId = session.user.userId;
      if (!services.fanout.isConnectedHere(userId)) {
        services.typing
          .userGone(userId)
          .catch((error: unknown) => log.warn(`typing of ${userId} not ended`, error));
      }
    },
    async handle(session, frame) {
      switch (frame.kind) {
        case "ping":
          return pushFrame("pong", frame.ts);
        case "bad":
          return errorFrame(
            frame.ref,
            new ProtocolError("protocol.bad_frame", `Bad frame: ${frame.reason}.`).toPayload(),
          );
        case "authenticate":
          try {
            return pushFrame("authenticated", await authenticate(session, services, frame.payload));
          } catch (error) {
            return errorFrame(undefined, toErrorPayload(error, "authenticate"));
          }
        case "request":
          return request(session, frame.action, frame.ref, frame.payload);
        case "invalid":
          if (frame.ref === undefined) return errorFrame(undefined, invalidPayload(frame.fields));
          return request(session, frame.action, frame.ref, {}, frame.fields);
      }
    },
  };
}
