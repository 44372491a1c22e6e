-- why: Matrix clients draw a file from its size, an image from its pixel size and thumbnail; what
-- Parley learns of an upload (size, width, height, a thumbnail it made) is kept by content URI and
-- added to every message that carries the file.
CREATE TABLE media_info (
  mxc TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  thumbnail_mxc TEXT,
  created_at INTEGER NOT NULL
);
