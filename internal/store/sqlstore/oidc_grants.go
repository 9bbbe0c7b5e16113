package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

const grantColumns = "id, client_id, account_id, session_id, scopes, auth_time, amr, acr, created_at, expires_at, revoked_at, acting_for"

func insertGrant(ctx context.Context, c conn, g store.Grant) error {
	lists, err := joinLists("scope", g.Scopes, "AMR", g.AMR)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "INSERT INTO oidc_grants ("+grantColumns+") VALUES ("+placeholders(12)+")",
		g.ID, g.ClientID, g.AccountID, g.SessionID, lists[0], millis(g.AuthTime), lists[1], g.ACR,
		millis(g.CreatedAt), millis(g.ExpiresAt), millis(g.RevokedAt), g.ActingFor)
	return err
}

// GetGrant returns the grant with the ID, revoked or not, or an error
// wrapping store.ErrNotFound.
func (db *DB) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := scanGrant(db.reader().queryRow(ctx, "SELECT "+grantColumns+" FROM oidc_grants WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Grant{}, fmt.Errorf("sqlstore: get grant %q: %w", id, err)
	}
	return g, nil
}

// grantWhere returns the WHERE clause (without the keyword) and its
// arguments for f; "1 = 1" for an empty filter.
func grantWhere(f store.GrantFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{
		{"id", f.ID}, {"account_id", f.AccountID}, {"client_id", f.ClientID}, {"session_id", f.SessionID},
	} {
		if c.v != "" {
			conds, args = append(conds, c.col+" = ?"), append(args, c.v)
		}
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// ListGrants returns the grants matching f, revoked ones included,
// newest first.
func (db *DB) ListGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error) {
	where, args := grantWhere(f)
	list, err := queryAll(ctx, db.reader(), scanGrant, "SELECT "+grantColumns+" FROM oidc_grants WHERE "+where+
		" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list grants: %w", err)
	}
	return list, nil
}

// RevokeGrants sets revoked_at to at on the live grants matching f and
// returns how many. An empty filter is refused with a plain error, so a
// bug cannot revoke every grant there is.
func (db *DB) RevokeGrants(ctx context.Context, f store.GrantFilter, at time.Time) (int, error) {
	if f == (store.GrantFilter{}) {
		return 0, errors.New("sqlstore: revoke grants: empty filter")
	}
	where, args := grantWhere(f)
	n, err := db.writer().execCount(ctx, "UPDATE oidc_grants SET revoked_at = ? WHERE "+where+" AND revoked_at = ?",
		append(append([]any{millis(at)}, args...), zeroTime)...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: revoke grants: %w", err)
	}
	return n, nil
}

func scanGrant(row interface{ Scan(...any) error }) (store.Grant, error) {
	var (
		g                                         store.Grant
		scopes, amr                               string
		authTime, createdAt, expiresAt, revokedAt int64
	)
	err := row.Scan(&g.ID, &g.ClientID, &g.AccountID, &g.SessionID, &scopes, &authTime, &amr, &g.ACR,
		&createdAt, &expiresAt, &revokedAt, &g.ActingFor)
	if err != nil {
		return store.Grant{}, err
	}
	g.Scopes, g.AMR = splitList(scopes), splitList(amr)
	g.AuthTime, g.CreatedAt = fromMillis(authTime), fromMillis(createdAt)
	g.ExpiresAt, g.RevokedAt = fromMillis(expiresAt), fromMillis(revokedAt)
	return g, nil
}

// --- Access tokens ----------------------------------------------------

const accessTokenColumns = "id, grant_id, client_id, subject, scopes, audience, created_at, expires_at"

func insertAccessToken(ctx context.Context, c conn, t store.AccessToken) error {
	lists, err := joinLists("scope", t.Scopes, "audience", t.Audience)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "INSERT INTO oidc_access_tokens ("+accessTokenColumns+") VALUES ("+placeholders(8)+")",
		t.ID, nullIfEmpty(t.GrantID), t.ClientID, t.Subject, lists[0], lists[1], millis(t.CreatedAt),
		millis(t.ExpiresAt))
	return err
}

// CreateAccessToken inserts t. The error wraps store.ErrConflict if the
// ID is taken and store.ErrNotFound if a non-empty GrantID names no grant.
// An empty GrantID is stored as NULL.
func (db *DB) CreateAccessToken(ctx context.Context, t store.AccessToken) error {
	if err := insertAccessToken(ctx, db.writer(), t); err != nil {
		return fmt.Errorf("sqlstore: create access token %q: %w", t.ID, err)
	}
	return nil
}

// GetAccessToken returns the access token with the ID and its grant, or
// an error wrapping store.ErrNotFound if there is none or its grant is
// revoked: one indexed read that joins the grant.
func (db *DB) GetAccessToken(ctx context.Context, id string) (store.AccessToken, store.Grant, error) {
	var (
		t                                  store.AccessToken
		g                                  store.Grant
		grantID                            sql.NullString
		scopes, audience                   string
		createdAt, expiresAt               int64
		gID, gClient, gAccount, gSession   sql.NullString
		gScopes, gAMR, gACR, gActing       sql.NullString
		gAuth, gCreated, gExpires, gRevoke sql.NullInt64
	)
	err := db.reader().queryRow(ctx, `SELECT t.id, t.grant_id, t.client_id, t.subject, t.scopes, t.audience,
		t.created_at, t.expires_at, g.id, g.client_id, g.account_id, g.session_id, g.scopes, g.auth_time, g.amr,
		g.acr, g.created_at, g.expires_at, g.revoked_at, g.acting_for
		FROM oidc_access_tokens t LEFT JOIN oidc_grants g ON g.id = t.grant_id
		WHERE t.id = ? AND (t.grant_id IS NULL OR g.revoked_at = ?)`, id, zeroTime).
		Scan(&t.ID, &grantID, &t.ClientID, &t.Subject, &scopes, &audience, &createdAt, &expiresAt,
			&gID, &gClient, &gAccount, &gSession, &gScopes, &gAuth, &gAMR, &gACR, &gCreated, &gExpires, &gRevoke, &gActing)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AccessToken{}, store.Grant{}, fmt.Errorf("sqlstore: get access token %q: %w", id, err)
	}
	t.GrantID = grantID.String
	t.Scopes, t.Audience = splitList(scopes), splitList(audience)
	t.CreatedAt, t.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
	if gID.Valid {
		g = store.Grant{ID: gID.String, ClientID: gClient.String, AccountID: gAccount.String,
			SessionID: gSession.String, Scopes: splitList(gScopes.String), AuthTime: fromMillis(gAuth.Int64),
			AMR: splitList(gAMR.String), ACR: gACR.String, CreatedAt: fromMillis(gCreated.Int64),
			ExpiresAt: fromMillis(gExpires.Int64), RevokedAt: fromMillis(gRevoke.Int64), ActingFor: gActing.String}
	}
	return t, g, nil
}

// DeleteAccessToken returns an error wrapping store.ErrNotFound if there
// was no such token.
func (db *DB) DeleteAccessToken(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM oidc_access_tokens WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete access token %q: %w", id, err)
	}
	return nil
}

// --- Refresh tokens ---------------------------------------------------

func insertRefreshToken(ctx context.Context, c conn, rt store.RefreshToken) error {
	if len(rt.Hash) == 0 {
		return errors.New("the refresh token has no digest")
	}
	scopes, err := joinList("scope", rt.Scopes)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO oidc_refresh_tokens (hash, grant_id, scopes, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?)`, rt.Hash, rt.GrantID, scopes, millis(rt.CreatedAt), millis(rt.ExpiresAt),
		millis(rt.UsedAt))
	return err
}

// CreateRefreshToken inserts rt and at in one transaction. The error
// wraps store.ErrNotFound if their grant does not exist and
// store.ErrConflict if the digest or the access token ID is taken; a
// token without a digest, or the two in different grants, is refused with
// a plain error.
func (db *DB) CreateRefreshToken(ctx context.Context, rt store.RefreshToken, at store.AccessToken) error {
	err := db.inTx(ctx, func(c conn) error {
		if at.GrantID != rt.GrantID {
			return fmt.Errorf("the access token is of grant %q, the refresh token of %q", at.GrantID, rt.GrantID)
		}
		if err := insertRefreshToken(ctx, c, rt); err != nil {
			return err
		}
		return insertAccessToken(ctx, c, at)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create refresh token of grant %q: %w", rt.GrantID, err)
	}
	return nil
}

// GetRefreshToken returns the refresh token with the digest and its grant
// in one read, or an error wrapping store.ErrNotFound. The digest is not
// put in the error.
func (db *DB) GetRefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, store.Grant, error) {
	rt, g, err := getRefreshToken(ctx, func(q string, args ...any) rowScanner { return db.reader().queryRow(ctx, q, args...) }, hash, "")
	if err != nil {
		return rt, g, fmt.Errorf("sqlstore: get refresh token: %w", err)
	}
	return rt, g, nil
}

// getRefreshToken reads a refresh token and its grant through queryRow
// (a transaction's conn, or the cached statements), locking the row when
// lock says how.
func getRefreshToken(ctx context.Context, queryRow func(string, ...any) rowScanner, hash []byte, lock string) (store.RefreshToken, store.Grant, error) {
	var (
		rt                           store.RefreshToken
		g                            store.Grant
		scopes, gScopes, amr         string
		created, expires, used       int64
		authTime, gCreated, gExpires int64
		gRevoked                     int64
	)
	if len(hash) == 0 {
		return rt, g, store.ErrNotFound
	}
	err := queryRow(`SELECT t.hash, t.grant_id, t.scopes, t.created_at, t.expires_at, t.used_at,
		g.id, g.client_id, g.account_id, g.session_id, g.scopes, g.auth_time, g.amr, g.acr, g.created_at,
		g.expires_at, g.revoked_at, g.acting_for FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id
		WHERE t.hash = ?`+lock, hash).Scan(&rt.Hash, &rt.GrantID, &scopes, &created, &expires, &used,
		&g.ID, &g.ClientID, &g.AccountID, &g.SessionID, &gScopes, &authTime, &amr, &g.ACR, &gCreated, &gExpires,
		&gRevoked, &g.ActingFor)
	if errors.Is(err, sql.ErrNoRows) {
		return rt, g, store.ErrNotFound
	}
	if err != nil {
		return rt, g, err
	}
	rt.Scopes, rt.CreatedAt, rt.ExpiresAt, rt.UsedAt = splitList(scopes), fromMillis(created), fromMillis(expires), fromMillis(used)
	g.Scopes, g.AMR = splitList(gScopes), splitList(amr)
	g.AuthTime, g.CreatedAt = fromMillis(authTime), fromMillis(gCreated)
	g.ExpiresAt, g.RevokedAt = fromMillis(gExpires), fromMillis(gRevoked)
	return rt, g, nil
}

// RotateRefreshToken uses up a refresh token and inserts its successor,
// exactly once. The transaction begins by locking the old token's row
// (SELECT … FOR UPDATE on PostgreSQL, the write lock on SQLite), so
// parallel rotations of one token queue up: the first marks it used and
// inserts next and at; each later one finds it used, revokes the grant at
// usedAt, commits that and returns an error wrapping store.ErrConflict.
// The error wraps store.ErrNotFound if there is no such token or its grant
// is revoked. next and at must belong to the old token's grant.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, usedAt time.Time,
	next store.RefreshToken, at store.AccessToken) error {
	var replay bool
	err := db.inTx(ctx, func(c conn) error {
		old, g, err := getRefreshToken(ctx, func(q string, args ...any) rowScanner { return c.queryRow(ctx, q, args...) },
			oldHash, db.d.forUpdate)
		if err != nil {
			return err
		}
		if !g.RevokedAt.IsZero() {
			return store.ErrNotFound
		}
		if !old.UsedAt.IsZero() {
			replay = true
			_, err := c.exec(ctx, "UPDATE oidc_grants SET revoked_at = ? WHERE id = ? AND revoked_at = ?",
				millis(usedAt), g.ID, zeroTime)
			return err
		}
		if next.GrantID != g.ID || at.GrantID != g.ID {
			return fmt.Errorf("the new tokens are of grants %q and %q, not %q", next.GrantID, at.GrantID, g.ID)
		}
		if err := c.execOne(ctx, "UPDATE oidc_refresh_tokens SET used_at = ? WHERE hash = ?", millis(usedAt), oldHash); err != nil {
			return err
		}
		if err := insertRefreshToken(ctx, c, next); err != nil {
			return err
		}
		return insertAccessToken(ctx, c, at)
	})
	if err == nil && replay {
		err = store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
	}
	return nil
}

// --- Revoked token IDs ------------------------------------------------

// RevokeTokenID records the ID as revoked until expiresAt; revoking it
// again keeps the first record.
func (db *DB) RevokeTokenID(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := db.writer().exec(ctx, "INSERT INTO oidc_revoked_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
		id, millis(expiresAt))
	if err != nil {
		return fmt.Errorf("sqlstore: revoke token %q: %w", id, err)
	}
	return nil
}

// TokenIDRevoked reports whether RevokeTokenID recorded the ID (and
// DeleteExpiredOIDC has not removed it since).
func (db *DB) TokenIDRevoked(ctx context.Context, id string) (bool, error) {
	var one int
	err := db.reader().queryRow(ctx, "SELECT 1 FROM oidc_revoked_tokens WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: check revoked token %q: %w", id, err)
	}
	return true, nil
}

// DeleteExpiredOIDC removes the authorization requests, grants, access
// and refresh tokens and revoked token IDs whose expires_at is not after
// now, and returns how many rows it removed (tokens that went with their
// grant not counted).
func (db *DB) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, table := range []string{"oidc_auth_requests", "oidc_grants", "oidc_access_tokens",
		"oidc_refresh_tokens", "oidc_revoked_tokens"} {
		n, err := db.writer().execCount(ctx, "DELETE FROM "+table+" WHERE expires_at <= ?", millis(now))
		if err != nil {
			return total, fmt.Errorf("sqlstore: delete expired from %s: %w", table, err)
		}
		total += n
	}
	return total, nil
}
