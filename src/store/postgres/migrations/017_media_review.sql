-- why: media review: moderators mark a message's files NSFW (`nsfw`), and a channel with
-- `media_review` "before" holds files from users below moderator (`pending_review`) until a
-- moderator marks them; only moderators and the sender see a held message meanwhile.
ALTER TABLE events ADD COLUMN nsfw BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN pending_review BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE channel_settings ADD COLUMN media_review TEXT NOT NULL DEFAULT 'off';
