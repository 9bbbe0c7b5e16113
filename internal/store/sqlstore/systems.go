package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

var (
	_ store.Organisations = (*DB)(nil)
	_ store.AccountRights = (*DB)(nil)
	_ store.Systems       = (*DB)(nil)
)

// ---- organisations ----

// CreateOrg implements store.Organisations.
func (db *DB) CreateOrg(ctx context.Context, o store.Organisation) error {
	_, err := db.writer().exec(ctx, "INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
		o.ID, o.Name, millis(o.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlstore: create organisation %q: %w", o.ID, err)
	}
	return nil
}

// GetOrg implements store.Organisations.
func (db *DB) GetOrg(ctx context.Context, id string) (store.Organisation, error) {
	o, err := scanOrg(db.reader().queryRow(ctx, "SELECT id, name, created_at FROM organisations WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Organisation{}, fmt.Errorf("sqlstore: get organisation %q: %w", id, err)
	}
	return o, nil
}

// ListOrgs implements store.Organisations.
func (db *DB) ListOrgs(ctx context.Context) ([]store.Organisation, error) {
	list, err := queryAll(ctx, db.reader(), scanOrg, "SELECT id, name, created_at FROM organisations ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list organisations: %w", err)
	}
	return list, nil
}

// DeleteOrg implements store.Organisations. The organisation's systems
// are revoked with their grants before they go, so no token issued
// through them outlives them.
func (db *DB) DeleteOrg(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, "DELETE FROM oidc_grants WHERE client_id IN (SELECT id FROM systems WHERE org_id = ?)", id); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM systems WHERE org_id = ?", id); err != nil {
			return err
		}
		return c.execOne(ctx, "DELETE FROM organisations WHERE id = ?", id)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete organisation %q: %w", id, err)
	}
	return nil
}

const memberColumns = "org_id, account_id, role, rights, added_at, updated_at"

// PutOrgMember implements store.Organisations.
func (db *DB) PutOrgMember(ctx context.Context, m store.OrgMember) (store.OrgMember, error) {
	rights, err := joinList("right", m.Rights)
	if err != nil {
		return store.OrgMember{}, fmt.Errorf("sqlstore: put member of %q: %w", m.OrgID, err)
	}
	var out store.OrgMember
	err = db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, "INSERT INTO org_members ("+memberColumns+") VALUES (?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role, rights = excluded.rights, updated_at = excluded.updated_at",
			m.OrgID, m.AccountID, m.Role, rights, millis(m.AddedAt), millis(m.UpdatedAt)); err != nil {
			return err
		}
		var err error
		out, err = scanMember(c.queryRow(ctx, "SELECT "+memberColumns+" FROM org_members WHERE org_id = ? AND account_id = ?", m.OrgID, m.AccountID))
		return err
	})
	if err != nil {
		return store.OrgMember{}, fmt.Errorf("sqlstore: put member of %q: %w", m.OrgID, err)
	}
	return out, nil
}

// GetOrgMember implements store.Organisations.
func (db *DB) GetOrgMember(ctx context.Context, orgID, accountID string) (store.OrgMember, error) {
	m, err := scanMember(db.reader().queryRow(ctx, "SELECT "+memberColumns+" FROM org_members WHERE org_id = ? AND account_id = ?", orgID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.OrgMember{}, fmt.Errorf("sqlstore: get member of %q: %w", orgID, err)
	}
	return m, nil
}

// ListOrgMembers implements store.Organisations.
func (db *DB) ListOrgMembers(ctx context.Context, orgID string) ([]store.OrgMember, error) {
	list, err := queryAll(ctx, db.reader(), scanMember, "SELECT "+memberColumns+" FROM org_members WHERE org_id = ? ORDER BY account_id", orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list members of %q: %w", orgID, err)
	}
	return list, nil
}

// ListMemberships implements store.Organisations.
func (db *DB) ListMemberships(ctx context.Context, accountID string) ([]store.OrgMember, error) {
	list, err := queryAll(ctx, db.reader(), scanMember, "SELECT "+memberColumns+" FROM org_members WHERE account_id = ? ORDER BY org_id", accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list memberships of %q: %w", accountID, err)
	}
	return list, nil
}

// DeleteOrgMember implements store.Organisations.
func (db *DB) DeleteOrgMember(ctx context.Context, orgID, accountID string) error {
	if err := db.writer().execOne(ctx, "DELETE FROM org_members WHERE org_id = ? AND account_id = ?", orgID, accountID); err != nil {
		return fmt.Errorf("sqlstore: delete member of %q: %w", orgID, err)
	}
	return nil
}

func scanOrg(r rowScanner) (store.Organisation, error) {
	var (
		o       store.Organisation
		created int64
	)
	if err := r.Scan(&o.ID, &o.Name, &created); err != nil {
		return store.Organisation{}, err
	}
	o.CreatedAt = fromMillis(created)
	return o, nil
}

func scanMember(r rowScanner) (store.OrgMember, error) {
	var (
		m              store.OrgMember
		rights         string
		added, updated int64
	)
	if err := r.Scan(&m.OrgID, &m.AccountID, &m.Role, &rights, &added, &updated); err != nil {
		return store.OrgMember{}, err
	}
	m.Rights, m.AddedAt, m.UpdatedAt = splitList(rights), fromMillis(added), fromMillis(updated)
	return m, nil
}

// ---- rights of an account ----

// SetAccountRights implements store.AccountRights.
func (db *DB) SetAccountRights(ctx context.Context, accountID string, rights []string) error {
	rights = slices.Compact(slices.Sorted(slices.Values(rights)))
	list, err := joinList("right", rights)
	if err != nil {
		return fmt.Errorf("sqlstore: set rights of %q: %w", accountID, err)
	}
	_, err = db.writer().exec(ctx, "INSERT INTO account_rights (account_id, rights) VALUES (?, ?)"+
		" ON CONFLICT (account_id) DO UPDATE SET rights = excluded.rights", accountID, list)
	if err != nil {
		return fmt.Errorf("sqlstore: set rights of %q: %w", accountID, err)
	}
	return nil
}

// GetAccountRights implements store.AccountRights.
func (db *DB) GetAccountRights(ctx context.Context, accountID string) ([]string, error) {
	var list string
	err := db.reader().queryRow(ctx, "SELECT rights FROM account_rights WHERE account_id = ?", accountID).Scan(&list)
	if errors.Is(err, sql.ErrNoRows) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get rights of %q: %w", accountID, err)
	}
	out := splitList(list)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// ---- systems ----

const systemColumns = "id, owner_account, org_id, name, secret_hash, public_key, rights, created_at, rotated_at, expires_at, revoked_at, last_used_at"

func systemArgs(s store.System) ([]any, error) {
	rights, err := joinList("right", s.Rights)
	if err != nil {
		return nil, err
	}
	return []any{s.ID, s.OwnerAccount, s.OrgID, s.Name, nilIfEmpty(s.SecretHash), s.PublicKey, rights,
		millis(s.CreatedAt), millis(s.RotatedAt), millis(s.ExpiresAt), millis(s.RevokedAt), millis(s.LastUsedAt)}, nil
}

// CreateSystem implements store.Systems.
func (db *DB) CreateSystem(ctx context.Context, s store.System) error {
	args, err := systemArgs(s)
	if err != nil {
		return fmt.Errorf("sqlstore: create system: %w", err)
	}
	err = db.inTx(ctx, func(c conn) error {
		if s.OrgID != "" {
			if _, err := c.queryRow(ctx, "SELECT id FROM organisations WHERE id = ?", s.OrgID).scanOne(); err != nil {
				return err
			}
		}
		_, err := c.exec(ctx, "INSERT INTO systems ("+systemColumns+") VALUES ("+placeholders(12)+")", args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create system of %q: %w", s.OwnerAccount, err)
	}
	return nil
}

// GetSystem implements store.Systems.
func (db *DB) GetSystem(ctx context.Context, id string) (store.System, error) {
	s, err := getSystem(ctx, db.reader(), id, "")
	if err != nil {
		return store.System{}, fmt.Errorf("sqlstore: get system: %w", err)
	}
	return s, nil
}

func getSystem(ctx context.Context, c conn, id, lock string) (store.System, error) {
	s, err := scanSystem(c.queryRow(ctx, "SELECT "+systemColumns+" FROM systems WHERE id = ?"+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return s, err
}

// ListSystems implements store.Systems.
func (db *DB) ListSystems(ctx context.Context, accountID, orgID string) ([]store.System, error) {
	q, args := "SELECT "+systemColumns+" FROM systems WHERE owner_account = ? AND org_id = '' ORDER BY created_at DESC, id", []any{accountID}
	if orgID != "" {
		q, args = "SELECT "+systemColumns+" FROM systems WHERE org_id = ? ORDER BY created_at DESC, id", []any{orgID}
	}
	list, err := queryAll(ctx, db.reader(), scanSystem, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list systems: %w", err)
	}
	return list, nil
}

// UpdateSystem implements store.Systems.
func (db *DB) UpdateSystem(ctx context.Context, id string, fn func(store.System) (store.System, error)) (store.System, error) {
	return update(ctx, db, "system", id,
		func(c conn) (store.System, error) { return getSystem(ctx, c, id, db.d.forUpdate) },
		fn,
		func(c conn, s store.System) error {
			if s.ID != id {
				return errors.New("the updater changed the system's ID")
			}
			args, err := systemArgs(s)
			if err != nil {
				return err
			}
			return c.execOne(ctx, "UPDATE systems SET name = ?, secret_hash = ?, public_key = ?, rights = ?, rotated_at = ?, expires_at = ?, revoked_at = ?, last_used_at = ? WHERE id = ?",
				args[3], args[4], args[5], args[6], args[8], args[9], args[10], args[11], id)
		})
}

// RevokeSystem implements store.Systems.
func (db *DB) RevokeSystem(ctx context.Context, id string, at time.Time) error {
	err := db.inTx(ctx, func(c conn) error {
		s, err := getSystem(ctx, c, id, db.d.forUpdate)
		if err != nil {
			return err
		}
		if s.RevokedAt.IsZero() {
			if _, err := c.exec(ctx, "UPDATE systems SET revoked_at = ? WHERE id = ?", millis(at), id); err != nil {
				return err
			}
		}
		_, err = c.exec(ctx, "UPDATE oidc_grants SET revoked_at = ? WHERE client_id = ? AND revoked_at = ?", millis(at), id, zeroTime)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke system: %w", err)
	}
	return nil
}

// CreateSystemGrant implements store.Systems. The system is read (and
// on PostgreSQL locked) in the transaction, so a grant never lands after
// the system's revocation has committed.
func (db *DB) CreateSystemGrant(ctx context.Context, g store.Grant, at store.AccessToken, rt *store.RefreshToken) error {
	err := db.inTx(ctx, func(c conn) error {
		s, err := getSystem(ctx, c, g.ClientID, db.d.forUpdate)
		if err != nil {
			return err
		}
		if !s.RevokedAt.IsZero() {
			return store.ErrNotFound
		}
		if at.GrantID != g.ID || (rt != nil && rt.GrantID != g.ID) {
			return fmt.Errorf("the tokens are not of grant %q", g.ID)
		}
		if err := insertGrant(ctx, c, g); err != nil {
			return err
		}
		if err := insertAccessToken(ctx, c, at); err != nil {
			return err
		}
		if rt != nil {
			if err := insertRefreshToken(ctx, c, *rt); err != nil {
				return err
			}
		}
		_, err = c.exec(ctx, "UPDATE systems SET last_used_at = ? WHERE id = ?", millis(g.CreatedAt), s.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create grant through system: %w", err)
	}
	return nil
}

// SetSystemLoginAllowed implements store.Systems.
func (db *DB) SetSystemLoginAllowed(ctx context.Context, accountID string, allowed bool, at time.Time) error {
	v := 0
	if allowed {
		v = 1
	}
	_, err := db.writer().exec(ctx, "INSERT INTO system_login_allowed (account_id, allowed, changed_at) VALUES (?, ?, ?)"+
		" ON CONFLICT (account_id) DO UPDATE SET allowed = excluded.allowed, changed_at = excluded.changed_at", accountID, v, millis(at))
	if err != nil {
		return fmt.Errorf("sqlstore: set system login of %q: %w", accountID, err)
	}
	return nil
}

// SystemLoginAllowed implements store.Systems.
func (db *DB) SystemLoginAllowed(ctx context.Context, accountID string) (bool, time.Time, error) {
	var v, at int64
	err := db.reader().queryRow(ctx, "SELECT allowed, changed_at FROM system_login_allowed WHERE account_id = ?", accountID).Scan(&v, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlstore: get system login of %q: %w", accountID, err)
	}
	return v == 1, fromMillis(at), nil
}

func scanSystem(r rowScanner) (store.System, error) {
	var (
		s                                        store.System
		rights                                   string
		created, rotated, expires, revoked, used int64
	)
	if err := r.Scan(&s.ID, &s.OwnerAccount, &s.OrgID, &s.Name, &s.SecretHash, &s.PublicKey, &rights,
		&created, &rotated, &expires, &revoked, &used); err != nil {
		return store.System{}, err
	}
	s.Rights = splitList(rights)
	s.CreatedAt, s.RotatedAt, s.ExpiresAt = fromMillis(created), fromMillis(rotated), fromMillis(expires)
	s.RevokedAt, s.LastUsedAt = fromMillis(revoked), fromMillis(used)
	return s, nil
}
