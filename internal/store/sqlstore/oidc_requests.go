package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/portvakt/portvakt/internal/store"
)

const authRequestColumns = "id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, " +
	"response_mode, prompt, max_age, acr_values, acr_essential, ui_locales, login_hint, hint_subject, done, " +
	"account_id, session_id, auth_time, amr, acr, error, code_hash, code_expires_at, grant_id, created_at, expires_at"

// authRequestArgs returns the values of authRequestColumns for r. An
// empty AccountID and an empty CodeHash are stored as NULL.
func authRequestArgs(r store.AuthRequest) ([]any, error) {
	lists, err := joinLists("scope", r.Scopes, "prompt", r.Prompt, "ACR", r.ACRValues, "UI locale", r.UILocales,
		"AMR", r.AMR)
	if err != nil {
		return nil, err
	}
	return []any{r.ID, r.ClientID, r.RedirectURI, lists[0], r.State, r.Nonce, r.CodeChallenge,
		r.CodeChallengeMethod, r.ResponseMode, lists[1], r.MaxAge, lists[2], r.ACREssential, lists[3],
		r.LoginHint, r.HintSubject, r.Done, nullIfEmpty(r.AccountID), r.SessionID, millis(r.AuthTime), lists[4],
		r.ACR, r.Error, nullIfNoBytes(r.CodeHash), millis(r.CodeExpiresAt), r.GrantID, millis(r.CreatedAt),
		millis(r.ExpiresAt)}, nil
}

// CreateAuthRequest inserts r. The error wraps store.ErrConflict if the ID
// or a non-empty CodeHash is taken, and store.ErrNotFound if a non-empty
// AccountID names no account.
func (db *DB) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	args, err := authRequestArgs(r)
	if err == nil {
		_, err = db.writer().exec(ctx,
			"INSERT INTO oidc_auth_requests ("+authRequestColumns+") VALUES ("+placeholders(28)+")", args...)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create auth request %q: %w", r.ID, err)
	}
	return nil
}

// GetAuthRequest returns the request with the ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	r, err := getAuthRequest(ctx, db.reader(), "id = ?", id)
	if err != nil {
		return r, fmt.Errorf("sqlstore: get auth request %q: %w", id, err)
	}
	return r, nil
}

// GetAuthRequestByCode returns the request whose code digest is codeHash,
// or an error wrapping store.ErrNotFound; an empty digest finds nothing.
func (db *DB) GetAuthRequestByCode(ctx context.Context, codeHash []byte) (store.AuthRequest, error) {
	var (
		r   store.AuthRequest
		err = store.ErrNotFound
	)
	if len(codeHash) > 0 {
		r, err = getAuthRequest(ctx, db.reader(), "code_hash = ?", codeHash)
	}
	if err != nil {
		return r, fmt.Errorf("sqlstore: get auth request by code: %w", err)
	}
	return r, nil
}

// UpdateAuthRequest has the semantics of UpdateAccount; the error wraps
// store.ErrConflict if the new CodeHash is another request's. fn must
// change neither the ID nor the GrantID.
func (db *DB) UpdateAuthRequest(ctx context.Context, id string,
	fn func(store.AuthRequest) (store.AuthRequest, error)) (store.AuthRequest, error) {
	var grantID string
	r, err := update(ctx, db, "auth request", id,
		func(c conn) (store.AuthRequest, error) {
			r, err := getAuthRequest(ctx, c, "id = ?"+db.d.forUpdate, id)
			grantID = r.GrantID
			return r, err
		},
		fn,
		func(c conn, r store.AuthRequest) error {
			if r.ID != id {
				return fmt.Errorf("updater changed the ID to %q", r.ID)
			}
			if r.GrantID != grantID {
				return fmt.Errorf("updater changed the grant ID to %q", r.GrantID)
			}
			args, err := authRequestArgs(r)
			if err != nil {
				return err
			}
			return c.execOne(ctx, `UPDATE oidc_auth_requests SET client_id = ?, redirect_uri = ?, scopes = ?,
				state = ?, nonce = ?, code_challenge = ?, code_challenge_method = ?, response_mode = ?, prompt = ?,
				max_age = ?, acr_values = ?, acr_essential = ?, ui_locales = ?, login_hint = ?, hint_subject = ?,
				done = ?, account_id = ?, session_id = ?, auth_time = ?, amr = ?, acr = ?, error = ?, code_hash = ?,
				code_expires_at = ?, grant_id = ?, created_at = ?, expires_at = ? WHERE id = ?`, append(args[1:], id)...)
		})
	if err != nil {
		return store.AuthRequest{}, err
	}
	return readBackAuthRequest(r), nil
}

// DeleteAuthRequest returns an error wrapping store.ErrNotFound if there
// was no such request.
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM oidc_auth_requests WHERE id = ?", id); err != nil {
		return fmt.Errorf("sqlstore: delete auth request %q: %w", id, err)
	}
	return nil
}

// RedeemAuthCode redeems a code exactly once. In one transaction it locks
// the request with the code (SELECT … FOR UPDATE on PostgreSQL, the write
// lock on SQLite), so parallel redemptions queue up: the first sets
// grant_id and inserts g; each later one finds grant_id set, revokes that
// grant at g.CreatedAt, commits the revocation and returns an error
// wrapping store.ErrConflict. An unknown or empty code is
// store.ErrNotFound. g must be a new grant for the request's client and
// account.
func (db *DB) RedeemAuthCode(ctx context.Context, codeHash []byte, g store.Grant) (store.AuthRequest, error) {
	var (
		r      store.AuthRequest
		replay bool
	)
	err := db.inTx(ctx, func(c conn) error {
		if len(codeHash) == 0 {
			return store.ErrNotFound
		}
		var err error
		r, err = getAuthRequest(ctx, c, "code_hash = ?"+db.d.forUpdate, codeHash)
		if err != nil {
			return err
		}
		if r.GrantID != "" {
			replay = true
			_, err := c.exec(ctx, "UPDATE oidc_grants SET revoked_at = ? WHERE id = ? AND revoked_at = ?",
				millis(g.CreatedAt), r.GrantID, zeroTime)
			return err
		}
		if g.ID == "" {
			return errors.New("the grant has no ID")
		}
		if err := c.execOne(ctx, "UPDATE oidc_auth_requests SET grant_id = ? WHERE id = ?", g.ID, r.ID); err != nil {
			return err
		}
		r.GrantID = g.ID
		return insertGrant(ctx, c, g)
	})
	if err == nil && replay {
		err = store.ErrConflict
	}
	if err != nil {
		return store.AuthRequest{}, fmt.Errorf("sqlstore: redeem auth code: %w", err)
	}
	return r, nil
}

func getAuthRequest(ctx context.Context, c conn, where string, args ...any) (store.AuthRequest, error) {
	r, err := scanAuthRequest(c.queryRow(ctx, "SELECT "+authRequestColumns+" FROM oidc_auth_requests WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuthRequest{}, store.ErrNotFound
	}
	return r, err
}

func scanAuthRequest(row interface{ Scan(...any) error }) (store.AuthRequest, error) {
	var (
		r                                            store.AuthRequest
		scopes, prompt, acrValues, uiLocales, amr    string
		accountID                                    sql.NullString
		maxAge                                       int64
		authTime, codeExpiresAt, createdAt, expireAt int64
	)
	err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.CodeChallenge,
		&r.CodeChallengeMethod, &r.ResponseMode, &prompt, &maxAge, &acrValues, &r.ACREssential, &uiLocales,
		&r.LoginHint, &r.HintSubject, &r.Done, &accountID, &r.SessionID, &authTime, &amr, &r.ACR, &r.Error, &r.CodeHash,
		&codeExpiresAt, &r.GrantID, &createdAt, &expireAt)
	if err != nil {
		return store.AuthRequest{}, err
	}
	r.Scopes, r.Prompt, r.ACRValues = splitList(scopes), splitList(prompt), splitList(acrValues)
	r.UILocales, r.AMR = splitList(uiLocales), splitList(amr)
	r.MaxAge = int(maxAge)
	r.AccountID = accountID.String
	r.AuthTime, r.CodeExpiresAt = fromMillis(authTime), fromMillis(codeExpiresAt)
	r.CreatedAt, r.ExpiresAt = fromMillis(createdAt), fromMillis(expireAt)
	return readBackAuthRequest(r), nil
}

// readBackAuthRequest returns r as a read returns it.
func readBackAuthRequest(r store.AuthRequest) store.AuthRequest {
	r.Scopes, r.Prompt, r.ACRValues = emptyToNil(r.Scopes), emptyToNil(r.Prompt), emptyToNil(r.ACRValues)
	r.UILocales, r.AMR = emptyToNil(r.UILocales), emptyToNil(r.AMR)
	if len(r.CodeHash) == 0 {
		r.CodeHash = nil
	}
	r.AuthTime, r.CodeExpiresAt = truncTime(r.AuthTime), truncTime(r.CodeExpiresAt)
	r.CreatedAt, r.ExpiresAt = truncTime(r.CreatedAt), truncTime(r.ExpiresAt)
	return r
}
