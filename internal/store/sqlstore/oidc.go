package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/portvakt/portvakt/internal/store"
)

var _ store.OIDC = (*DB)(nil)

// This file holds the OpenID Provider's clients and consents;
// oidc_requests.go the authorization requests, oidc_grants.go the grants
// and tokens, oidc_keys.go the signing keys.
//
// Lists (URIs, scopes, grant types, …) are stored space-separated, like
// Session.AMR; a value that is empty or contains white space is refused
// with a plain error, because it would not split back into the same list.
// nil and empty lists both read back as nil.

// zeroTime is the stored form of the zero time.Time: the value of
// revoked_at, used_at and retired_at while nothing happened.
var zeroTime = millis(time.Time{})

// joinList stores a list space-separated; what names it in the error.
func joinList(what string, values []string) (string, error) {
	for _, v := range values {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
			return "", fmt.Errorf("%s value %q is empty or contains white space", what, v)
		}
	}
	return strings.Join(values, " "), nil
}

// joinLists joins several lists, stopping at the first bad one. Pairs are
// (name, values).
func joinLists(lists ...any) ([]string, error) {
	out := make([]string, 0, len(lists)/2)
	for i := 0; i < len(lists); i += 2 {
		s, err := joinList(lists[i].(string), lists[i+1].([]string))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// splitList reads a stored list back; ” is nil.
func splitList(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return f
}

// emptyToNil returns nil for an empty list, as reads do.
func emptyToNil(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}

// durMillis and fromDurMillis store durations to the millisecond.
func durMillis(d time.Duration) int64 { return d.Milliseconds() }

func fromDurMillis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// --- Clients ----------------------------------------------------------

const clientColumns = "id, secret_hash, name, redirect_uris, post_logout_redirect_uris, public, third_party, " +
	"pkce_optional, grant_types, scopes, signing_alg, access_token_format, access_token_ttl, refresh_token_ttl, " +
	"backchannel_logout_uri, created_at"

// clientArgs returns the values of clientColumns for c.
func clientArgs(c store.Client) ([]any, error) {
	lists, err := joinLists("redirect URI", c.RedirectURIs, "post-logout redirect URI", c.PostLogoutRedirectURIs,
		"grant type", c.GrantTypes, "scope", c.Scopes)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, nullIfNoBytes(c.SecretHash), c.Name, lists[0], lists[1], c.Public, c.ThirdParty,
		c.PKCEOptional, lists[2], lists[3], c.SigningAlg, c.AccessTokenFormat, durMillis(c.AccessTokenTTL),
		durMillis(c.RefreshTokenTTL), c.BackChannelLogoutURI, millis(c.CreatedAt)}, nil
}

// CreateClient inserts c. The error wraps store.ErrConflict if the ID is
// taken. A nil or empty SecretHash is stored as NULL (a public client) and
// reads back as nil.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	args, err := clientArgs(c)
	if err == nil {
		_, err = db.writer().exec(ctx, "INSERT INTO oidc_clients ("+clientColumns+") VALUES ("+placeholders(16)+")", args...)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create client %q: %w", c.ID, err)
	}
	return nil
}

// GetClient returns the client with the ID, or an error wrapping
// store.ErrNotFound.
func (db *DB) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(db.reader().queryRow(ctx, "SELECT "+clientColumns+" FROM oidc_clients WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("sqlstore: get client %q: %w", id, err)
	}
	return c, nil
}

// ListClients returns every stored client, by ID.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	list, err := queryAll(ctx, db.reader(), scanClient, "SELECT "+clientColumns+" FROM oidc_clients ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", err)
	}
	return list, nil
}

// UpdateClient has the semantics of UpdateAccount. fn must not change the
// ID.
func (db *DB) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	c, err := update(ctx, db, "client", id,
		func(cn conn) (store.Client, error) {
			return getClient(ctx, cn, "id = ?"+db.d.forUpdate, id)
		},
		fn,
		func(cn conn, c store.Client) error {
			if c.ID != id {
				return fmt.Errorf("updater changed the ID to %q", c.ID)
			}
			args, err := clientArgs(c)
			if err != nil {
				return err
			}
			return cn.execOne(ctx, `UPDATE oidc_clients SET secret_hash = ?, name = ?, redirect_uris = ?,
				post_logout_redirect_uris = ?, public = ?, third_party = ?, pkce_optional = ?, grant_types = ?,
				scopes = ?, signing_alg = ?, access_token_format = ?, access_token_ttl = ?, refresh_token_ttl = ?,
				backchannel_logout_uri = ?, created_at = ? WHERE id = ?`, append(args[1:], id)...)
		})
	if err != nil {
		return store.Client{}, err
	}
	return readBackClient(c), nil
}

// DeleteClient removes the client and, in the same transaction, its
// grants (their tokens go with them), consents and authorization
// requests. The error wraps store.ErrNotFound if no client has the ID;
// then nothing is deleted.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(c conn) error {
		if err := c.execOne(ctx, "DELETE FROM oidc_clients WHERE id = ?", id); err != nil {
			return err
		}
		for _, table := range []string{"oidc_grants", "oidc_consents", "oidc_auth_requests"} {
			if _, err := c.exec(ctx, "DELETE FROM "+table+" WHERE client_id = ?", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete client %q: %w", id, err)
	}
	return nil
}

func getClient(ctx context.Context, c conn, where string, args ...any) (store.Client, error) {
	cl, err := scanClient(c.queryRow(ctx, "SELECT "+clientColumns+" FROM oidc_clients WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Client{}, store.ErrNotFound
	}
	return cl, err
}

func scanClient(row interface{ Scan(...any) error }) (store.Client, error) {
	var (
		c                                     store.Client
		redirects, postLogout, grants, scopes string
		accessTTL, refreshTTL, createdAt      int64
	)
	err := row.Scan(&c.ID, &c.SecretHash, &c.Name, &redirects, &postLogout, &c.Public, &c.ThirdParty,
		&c.PKCEOptional, &grants, &scopes, &c.SigningAlg, &c.AccessTokenFormat, &accessTTL, &refreshTTL,
		&c.BackChannelLogoutURI, &createdAt)
	if err != nil {
		return store.Client{}, err
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs = splitList(redirects), splitList(postLogout)
	c.GrantTypes, c.Scopes = splitList(grants), splitList(scopes)
	c.AccessTokenTTL, c.RefreshTokenTTL = fromDurMillis(accessTTL), fromDurMillis(refreshTTL)
	c.CreatedAt = fromMillis(createdAt)
	return readBackClient(c), nil
}

// readBackClient returns c as a read returns it.
func readBackClient(c store.Client) store.Client {
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	c.RedirectURIs, c.PostLogoutRedirectURIs = emptyToNil(c.RedirectURIs), emptyToNil(c.PostLogoutRedirectURIs)
	c.GrantTypes, c.Scopes = emptyToNil(c.GrantTypes), emptyToNil(c.Scopes)
	c.AccessTokenTTL = c.AccessTokenTTL.Truncate(time.Millisecond)
	c.RefreshTokenTTL = c.RefreshTokenTTL.Truncate(time.Millisecond)
	c.CreatedAt = truncTime(c.CreatedAt)
	return c
}

// --- Consents ---------------------------------------------------------

// SetConsent inserts or replaces the account's consent for the client.
// The error wraps store.ErrNotFound if the account does not exist.
func (db *DB) SetConsent(ctx context.Context, c store.Consent) error {
	scopes, err := joinList("scope", c.Scopes)
	if err == nil {
		_, err = db.writer().exec(ctx, `INSERT INTO oidc_consents (account_id, client_id, scopes, granted_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (account_id, client_id)
			DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
			c.AccountID, c.ClientID, scopes, millis(c.GrantedAt))
	}
	if err != nil {
		return fmt.Errorf("sqlstore: set consent of %q for %q: %w", c.AccountID, c.ClientID, err)
	}
	return nil
}

// GetConsent returns the consent, or an error wrapping store.ErrNotFound.
func (db *DB) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	c, err := scanConsent(db.reader().queryRow(ctx,
		"SELECT account_id, client_id, scopes, granted_at FROM oidc_consents WHERE account_id = ? AND client_id = ?",
		accountID, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Consent{}, fmt.Errorf("sqlstore: get consent of %q for %q: %w", accountID, clientID, err)
	}
	return c, nil
}

// ListConsents returns the account's consents by client ID; an unknown
// account has none.
func (db *DB) ListConsents(ctx context.Context, accountID string) ([]store.Consent, error) {
	list, err := queryAll(ctx, db.reader(), scanConsent,
		"SELECT account_id, client_id, scopes, granted_at FROM oidc_consents WHERE account_id = ? ORDER BY client_id",
		accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list consents of %q: %w", accountID, err)
	}
	return list, nil
}

// DeleteConsent returns an error wrapping store.ErrNotFound if there was
// no such consent.
func (db *DB) DeleteConsent(ctx context.Context, accountID, clientID string) error {
	err := db.writer().execOne(ctx, "DELETE FROM oidc_consents WHERE account_id = ? AND client_id = ?", accountID, clientID)
	if err != nil {
		return fmt.Errorf("sqlstore: delete consent of %q for %q: %w", accountID, clientID, err)
	}
	return nil
}

func scanConsent(row interface{ Scan(...any) error }) (store.Consent, error) {
	var (
		c         store.Consent
		scopes    string
		grantedAt int64
	)
	if err := row.Scan(&c.AccountID, &c.ClientID, &scopes, &grantedAt); err != nil {
		return store.Consent{}, err
	}
	c.Scopes, c.GrantedAt = splitList(scopes), fromMillis(grantedAt)
	return c, nil
}
