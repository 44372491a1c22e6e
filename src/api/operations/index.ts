// Every operation of the server API, in the order the document lists them.
import type { ApiOperation } from "../define.ts";
import { channelOperations } from "./channels.ts";
import { messageOperations } from "./messages.ts";
import { subscriptionOperations } from "./subscriptions.ts";
import { userOperations } from "./users.ts";
import { webhookOperations } from "./webhooks.ts";

export const API_OPERATIONS: readonly ApiOperation[] = [
  ...channelOperations,
  ...messageOperations,
  ...userOperations,
  ...webhookOperations,
  ...subscriptionOperations,
];
