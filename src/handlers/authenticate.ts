// The authenticate handshake: a JWT or, where allowed, a guest client_id.
import type { z } from "zod";
import { nativeView } from "../domain/users.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Authenticated } from "../protocol/events.ts";
import type { Payload } from "../protocol/frames.ts";
import { authenticatePayload, failingFields } from "../protocol/schemas.ts";
import type { Services, Session } from "./context.ts";

export async function authenticate(
  session: Session,
  services: Services,
  payload: Payload,
): Promise<Authenticated> {
  if (session.user) throw new ProtocolError("auth.already_authenticated");
  if (typeof payload.token !== "string" && typeof payload.client_id !== "string") {
    throw new ProtocolError("auth.missing_id_or_token");
  }
  const parsed = authenticatePayload.safeParse(payload);
  if (!parsed.success) {
    throw new ProtocolError(
      "protocol.invalid_payload",
      "authenticate takes a token or a client_id of 8-128 characters.",
      {
        fields: failingFields(parsed.error),
      },
    );
  }
  const credentials: z.infer<typeof authenticatePayload> = parsed.data;
  const identity =
    "token" in credentials
      ? await services.authenticator.verifyToken(credentials.token)
      : services.authenticator.guest(credentials.client_id);
  // Every refusal comes before the login is recorded: a refused authenticate changes nothing.
  const userId = await services.admission.admit(identity, session.address);
  const user = await services.users.login(identity);
  session.authenticate(
    { userId, isGuest: identity.isGuest, admin: identity.admin, address: session.address },
    { batchMemberEvents: credentials.batch_member_events === true },
  );
  services.activity.connectionOpened(user.userId);
  const read = await services.readState.summary(user.userId);
  return {
    user: nativeView(user),
    "chat.channels": read.channels,
    "chat.read_pointers": read.readPointers,
    "chat.notification_counts": read.notificationCounts,
  };
}
