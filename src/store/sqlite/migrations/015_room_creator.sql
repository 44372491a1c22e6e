-- why: in room version 12 a room's creator is above every power level and may not be listed in
-- them: a direct room a native user created (the bot stays out of it) is theirs, which Parley
-- knows only by remembering who created it.
ALTER TABLE channels ADD COLUMN creator TEXT;
