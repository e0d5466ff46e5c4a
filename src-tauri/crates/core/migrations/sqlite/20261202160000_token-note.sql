-- A note on a token that whoever manages it can change after creation (what it is for now,
-- who to ask, a ticket): free text, never a secret.
ALTER TABLE tokens ADD COLUMN note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 4000);
