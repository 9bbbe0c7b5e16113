package flow

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/audit"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/store"
)

// Organisations and rights, as the operator manages them (the admin API
// and `portvakt org …`): an organisation (number, name), its members
// with a role and rights, and the rights an account holds for itself.

var orgNumberRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{6,20}$`) })

// CreateOrg adds an organisation. The number is digits only (spaces are
// dropped: "912 345 678").
func (x *Systems) CreateOrg(ctx context.Context, number, name string) (store.Organisation, error) {
	number = strings.ReplaceAll(strings.TrimSpace(number), " ", "")
	name = strings.TrimSpace(name)
	p := &problem.Problem{Kind: problem.Invalid}
	if !orgNumberRE().MatchString(number) {
		p.Add("id", "orgs.number_invalid", nil)
	}
	if name == "" || utf8.RuneCountInString(name) > 200 {
		p.Add("name", "orgs.name_invalid", problem.Args{"max": 200})
	}
	if err := p.OrNil(); err != nil {
		return store.Organisation{}, err
	}
	o := store.Organisation{ID: number, Name: name, CreatedAt: x.S.now()}
	err := x.Store.CreateOrg(ctx, o)
	if errors.Is(err, store.ErrConflict) {
		return store.Organisation{}, problem.New(problem.Conflict, "id", "orgs.exists", problem.Args{"id": number})
	}
	if err != nil {
		return store.Organisation{}, err
	}
	x.record(ctx, audit.Event{Kind: audit.AccountUpdated, Actor: audit.Operator("admin"), Reason: "organisation added",
		Target: "org:" + number})
	return o, nil
}

// checkRights refuses rights that are not defined.
func (x *Systems) checkRights(field string, rights []string) ([]string, error) {
	out := slices.Compact(slices.Sorted(slices.Values(rights)))
	for _, r := range out {
		if !x.defined(r) {
			return nil, problem.New(problem.Invalid, field, "rights.unknown", problem.Args{"right": r})
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// PutMember adds an account to an organisation, or changes its role and
// rights. account is an account ID or a username.
func (x *Systems) PutMember(ctx context.Context, orgID, account, role string, rights []string) (store.OrgMember, error) {
	if role == "" {
		role = store.RoleMember
	}
	if role != store.RoleAdmin && role != store.RoleMember {
		return store.OrgMember{}, problem.New(problem.Invalid, "role", "orgs.role_invalid", nil)
	}
	rights, err := x.checkRights("rights", rights)
	if err != nil {
		return store.OrgMember{}, err
	}
	if _, err := x.Store.GetOrg(ctx, orgID); errors.Is(err, store.ErrNotFound) {
		return store.OrgMember{}, problem.New(problem.NotFound, "", "orgs.not_found", problem.Args{"id": orgID})
	} else if err != nil {
		return store.OrgMember{}, err
	}
	acct, err := x.findAccount(ctx, account)
	if err != nil {
		return store.OrgMember{}, err
	}
	now := x.S.now()
	m, err := x.Store.PutOrgMember(ctx, store.OrgMember{OrgID: orgID, AccountID: acct.ID, Role: role, Rights: rights, AddedAt: now, UpdatedAt: now})
	if err != nil {
		return store.OrgMember{}, err
	}
	x.record(ctx, audit.Event{Kind: audit.RoleGranted, Actor: audit.Operator("admin"), Subject: acct.ID, Reason: "organisation membership",
		Target: "org:" + orgID, Data: map[string]string{"role": role, "rights": strings.Join(rights, " ")}})
	return m, nil
}

// SetAccountRights replaces the rights the account holds for itself
// beyond the personal ones.
func (x *Systems) SetAccountRights(ctx context.Context, account string, rights []string) ([]string, error) {
	rights, err := x.checkRights("rights", rights)
	if err != nil {
		return nil, err
	}
	acct, err := x.findAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	if err := x.Store.SetAccountRights(ctx, acct.ID, rights); err != nil {
		return nil, err
	}
	x.record(ctx, audit.Event{Kind: audit.RoleGranted, Actor: audit.Operator("admin"), Subject: acct.ID, Reason: "rights set",
		Data: map[string]string{"rights": strings.Join(rights, " ")}})
	return rights, nil
}

// findAccount finds an account by ID or username.
func (x *Systems) findAccount(ctx context.Context, ref string) (store.Account, error) {
	ref = strings.TrimSpace(ref)
	acct, err := x.S.Store.GetAccount(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		acct, err = x.S.Store.GetAccountByUsername(ctx, strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, problem.New(problem.NotFound, "account", "orgs.account_not_found", problem.Args{"account": ref})
	}
	return acct, err
}
