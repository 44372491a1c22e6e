-- why: Matrix users can name a room and give it an avatar; native clients show both with the topic
-- (channel state, and a chat.state push when one changes).
ALTER TABLE channels ADD COLUMN room_name TEXT;
ALTER TABLE channels ADD COLUMN avatar_url TEXT;
