-- why: a channel's state shows the room's topic (m.room.topic), which Matrix users can set.
ALTER TABLE channels ADD COLUMN topic TEXT;
