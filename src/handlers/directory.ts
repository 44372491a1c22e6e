// chat.directory and user.list.search (PROTOCOL.md section 8).
import { directoryPayload, userSearchPayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const directoryActions = {
  "chat.directory": action(directoryPayload, async ({ services }, { search, count, cursor }) =>
    services.directory.channels({ search, count, cursor }),
  ),

  "user.list.search": action(userSearchPayload, async ({ user, services }, { search_term, page }) =>
    services.directory.searchUsers(user.userId, search_term, page),
  ),
};
