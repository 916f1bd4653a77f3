package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema. Version N of the database is the
// state after migrations[0..N-1]; PRAGMA user_version records N.
type migration struct {
	name string
	sql  string
}

// migrations is append-only: a released step is never edited, because
// databases in the field already ran it. Change the schema by appending.
//
// Tables refer to users by integer id, so renaming a user touches one row.
// Foreign keys cascade so that deleting a user takes everything of theirs
// with it. SQLite cannot change a column's constraints in place; a future
// step that must rebuild a table has to run with foreign_keys off, which is
// impossible inside a transaction, so such a step needs its own handling.
var migrations = []migration{
	{name: "users, tokens, OAuth, sessions", sql: `
CREATE TABLE users (
	id                INTEGER PRIMARY KEY,
	name              TEXT    NOT NULL UNIQUE CHECK (name <> ''),
	admin             INTEGER NOT NULL DEFAULT 0,
	created           INTEGER NOT NULL,
	last_activity     INTEGER,
	password_hash     TEXT,
	must_set_password INTEGER NOT NULL DEFAULT 0,
	cookie_id         TEXT    NOT NULL UNIQUE
);

CREATE TABLE oauth_clients (
	id             TEXT PRIMARY KEY,
	secret_hash    TEXT NOT NULL,
	redirect_uri   TEXT NOT NULL,
	owner_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
	description    TEXT NOT NULL DEFAULT '',
	allowed_scopes TEXT NOT NULL DEFAULT '[]',
	created        INTEGER NOT NULL
);
CREATE INDEX oauth_clients_owner ON oauth_clients(owner_id);

-- AUTOINCREMENT so that an id is never reused: "a42" must not come back as
-- someone else's token after a42 was revoked.
CREATE TABLE api_tokens (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	hash          TEXT    NOT NULL UNIQUE,
	prefix        TEXT    NOT NULL,
	kind          TEXT    NOT NULL CHECK (kind IN ('api', 'server', 'oauth')),
	scopes        TEXT    NOT NULL DEFAULT '[]',
	note          TEXT    NOT NULL DEFAULT '',
	client_id     TEXT    REFERENCES oauth_clients(id) ON DELETE CASCADE,
	session_id    TEXT,
	created       INTEGER NOT NULL,
	last_activity INTEGER,
	expires_at    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX api_tokens_client ON api_tokens(client_id);
CREATE INDEX api_tokens_session ON api_tokens(session_id);

CREATE TABLE oauth_codes (
	hash         TEXT    PRIMARY KEY,
	client_id    TEXT    NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	session_id   TEXT    NOT NULL DEFAULT '',
	redirect_uri TEXT    NOT NULL,
	scopes       TEXT    NOT NULL DEFAULT '[]',
	created      INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX oauth_codes_client ON oauth_codes(client_id);
CREATE INDEX oauth_codes_user ON oauth_codes(user_id);

CREATE TABLE sessions (
	id          TEXT    PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_secret TEXT    NOT NULL,
	created     INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
`},
	{name: "servers", sql: `
CREATE TABLE servers (
	user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name          TEXT    NOT NULL DEFAULT '',
	started       INTEGER,
	last_activity INTEGER,
	url           TEXT    NOT NULL DEFAULT '',
	pending       TEXT    NOT NULL DEFAULT '' CHECK (pending IN ('', 'spawn', 'stop')),
	ready         INTEGER NOT NULL DEFAULT 0,
	state         TEXT    NOT NULL DEFAULT '{}',
	token_id      INTEGER REFERENCES api_tokens(id) ON DELETE SET NULL,
	PRIMARY KEY (user_id, name)
);
CREATE INDEX servers_token ON servers(token_id);
`},
	{name: "login links", sql: `
CREATE TABLE login_links (
	hash       TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX login_links_user ON login_links(user_id);
`},
	// The login cookie used to carry the session id, which the API handed to
	// every server a user opened: those ids must stop working. The cookie now
	// carries its own secret, stored hashed; the id is a handle that may be
	// shown. Every session ends, and with it what was issued through one, as
	// logging out does: OAuth tokens (held by servers that may have read the
	// old id) and codes. users.cookie_id is unused since; SQLite cannot drop
	// a UNIQUE column, so new users fill it with a random value.
	{name: "session secrets", sql: `
DROP TABLE sessions;
CREATE TABLE sessions (
	id          TEXT    PRIMARY KEY,
	secret_hash TEXT    NOT NULL UNIQUE,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_secret TEXT    NOT NULL,
	created     INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
DELETE FROM api_tokens WHERE session_id IS NOT NULL;
DELETE FROM oauth_codes;
`},
	{name: "server origins", sql: `
-- A user's server is served on a port of its own, its origin. The port is
-- the user's until they are deleted, so a port never serves two users.
CREATE TABLE user_ports (
	user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	port    INTEGER NOT NULL UNIQUE CHECK (port BETWEEN 1 AND 65535)
);
`},
	{name: "external logins", sql: `
-- A user made by logging in with GitHub or a school's account logs in only
-- that way: the row says which, so that such a login never takes over an
-- account with a classhub password, nor the other way round.
CREATE TABLE external_logins (
	user_id  INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	provider TEXT    NOT NULL
);
`},
	// A pre-created student's first login needs a one-time code that the
	// instructor hands out, stored hashed as tokens are; one per user, a new
	// one replacing the old. users.reset records an instructor's last reset:
	// a server token issued before it is replaced at the server's next start.
	// Instructors were claimable by whoever typed their name first; they never
	// are now, so none waits for a first password.
	{name: "setup codes", sql: `
CREATE TABLE setup_codes (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	hash       TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
ALTER TABLE users ADD COLUMN reset INTEGER;
UPDATE users SET must_set_password = 0 WHERE admin;
`},
	{name: "retired ports", sql: `
-- A port a deleted user held is retired rather than free (see UserPort):
-- visitors' browsers keep what its origin left there. seq orders
-- retirements, the oldest lowest. The triggers keep the table right
-- however a port is let go of (deleting a user cascades here) or taken.
CREATE TABLE retired_ports (
	port INTEGER PRIMARY KEY,
	seq  INTEGER NOT NULL
);
CREATE TRIGGER user_ports_retire AFTER DELETE ON user_ports BEGIN
	INSERT OR REPLACE INTO retired_ports (port, seq)
		VALUES (OLD.port, (SELECT coalesce(max(seq), 0) + 1 FROM retired_ports));
END;
CREATE TRIGGER user_ports_reuse AFTER INSERT ON user_ports BEGIN
	DELETE FROM retired_ports WHERE port = NEW.port;
END;
`},
	{name: "image costs", sql: `
-- What one idle server of each notebook image used on this machine, the
-- least seen so far, which the capacity estimate starts from (core's
-- capacity.go). Keyed by the image's ID, so a tag rebuilt as another
-- image starts afresh.
CREATE TABLE image_costs (
	image_id TEXT    PRIMARY KEY,
	image    TEXT    NOT NULL,
	memory   INTEGER NOT NULL,
	cpu      REAL    NOT NULL,
	measured INTEGER NOT NULL
);
`},
	// The classhub app on learners' computers logs in as a public OAuth
	// client (hub/auth's AppClientID): no secret, so its secret_hash is one
	// no hex digest of a secret can equal, and each of its codes carries
	// the PKCE challenge its token request must answer.
	{name: "desktop app client", sql: `
ALTER TABLE oauth_codes ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
INSERT INTO oauth_clients (id, secret_hash, redirect_uri, description, created)
	VALUES ('classhub-desktop', '!public client', 'http://127.0.0.1/callback',
	        'The classhub app on a learner''s computer', CAST(strftime('%s', 'now') AS INTEGER) * 1000000);
`},
	// Where Docker publishes servers' ports on this machine's loopback, a
	// login a browser took at a loopback host would go to every one of
	// them (hub/loopback.go): each session says whether it was, and one
	// from before this step may have been.
	{name: "sessions at loopback", sql: `
ALTER TABLE sessions ADD COLUMN at_loopback INTEGER NOT NULL DEFAULT 1;
`},
}

// migrate brings db up to len(steps), one transaction per step, so a step
// that fails leaves the database at the previous version rather than half
// changed. db must begin IMMEDIATE transactions: the version is read inside
// the transaction, so two processes opening the same new file at once apply
// each step exactly once.
func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	for {
		done, err := migrateOne(ctx, db, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next step, if any, and reports whether the schema
// is now current.
func migrateOne(ctx context.Context, db *sql.DB, steps []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", classify(err))
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	switch {
	case version > len(steps):
		return false, fmt.Errorf("the database has schema version %d but this classhub knows only up to %d: it was written by a newer classhub; run that version, or restore a backup of the data folder", version, len(steps))
	case version == len(steps):
		return true, nil
	}
	step := steps[version]
	if _, err := tx.ExecContext(ctx, step.sql); err != nil {
		return false, fmt.Errorf("migrate to schema version %d (%s): %w", version+1, step.name, err)
	}
	// PRAGMA takes no parameters; version is an int, so formatting is safe.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", version+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to schema version %d (%s): %w", version+1, step.name, classify(err))
	}
	return version+1 == len(steps), nil
}
